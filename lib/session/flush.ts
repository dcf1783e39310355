/**
 * Flushing once per turn of the event loop: every session of a service written to during a turn
 * is flushed once, after all the socket reads of that turn were handled (setImmediate), so a
 * burst of writes leaves as one frame and one socket write. A turn reads many clients at once
 * under load: a room whose members speak in it gets one frame per member with all their
 * messages, not one frame per message (process.nextTick would flush after each client's read;
 * on the bench's chat fan-out that was 4× the socket writes, which are most of its CPU).
 */
import type { Session } from './session.js';

export class FlushScheduler {
  // Two arrays swap so that a flush that writes again (an echo inside 'data') schedules into the
  // other. They keep their storage between ticks (`length = 0` would drop it), so a count says
  // how much of `dirty` is in use.
  private dirty: (Session | null)[] = [];
  private count = 0;
  private spare: (Session | null)[] = [];
  /** A flush round is due in this turn. */
  pending = false;
  /** The serial of the session flushed last (a number: a closed session is not kept alive by it). */
  lastFlushed = 0;
  private serials = 0;
  private readonly run = (): void => this.flushAll();
  // Sessions that answered a client's message, flushed when the socket read at hand is handled.
  private replies: (Session | null)[] = [];
  private replyCount = 0;
  private spareReplies: (Session | null)[] = [];
  private repliesPending = false;
  private readonly runReplies = (): void => this.flushReplies();

  /** A number for a new session, for lastFlushed. */
  nextSerial(): number {
    return ++this.serials;
  }

  /** `session` has something to send in this turn's flush round. */
  add(session: Session): void {
    this.dirty[this.count++] = session;
    this.due();
  }

  /** Makes sure a flush round runs in this turn (after its socket reads). */
  due(): void {
    if (this.pending) return;
    this.pending = true;
    setImmediate(this.run);
  }

  /**
   * `session` answered a client's message: it is flushed once the socket read at hand was handled
   * (process.nextTick), with the answers to every message that read brought, in one frame and one
   * write; not at the end of the turn, which costs the client a pass of the event loop.
   */
  reply(session: Session): void {
    this.replies[this.replyCount++] = session;
    if (this.repliesPending) return;
    this.repliesPending = true;
    process.nextTick(this.runReplies);
  }

  private flushReplies(): void {
    this.repliesPending = false;
    const list = this.replies;
    const n = this.replyCount;
    this.replies = this.spareReplies;
    this.replyCount = 0;
    this.spareReplies = list;
    this.flushList(list, n, true);
  }

  private flushAll(): void {
    this.pending = false;
    const list = this.dirty;
    const n = this.count;
    this.dirty = this.spare;
    this.count = 0;
    this.spare = list;
    this.flushList(list, n, false);
  }

  private flushList(list: (Session | null)[], n: number, replies: boolean): void {
    for (let i = 0; i < n; i++) {
      const s = list[i]!;
      // Cleared as it goes: a closed session must not stay reachable from here.
      list[i] = null;
      if (replies) s.replyDue = false;
      else s.scheduled = false;
      try {
        s.flush();
      } catch (err) {
        // A listener (drain, close) or the log threw: the sessions after this one still get
        // their flush, in a round of their own, and the error goes on to the caller.
        for (let j = i + 1; j < n; j++) {
          const rest = list[j]!;
          list[j] = null;
          if (replies) {
            rest.replyDue = false;
            // Already on the round's list, or put there now.
            if (rest.scheduled) continue;
            rest.scheduled = true;
          }
          this.dirty[this.count++] = rest;
        }
        if (this.count > 0) this.due();
        throw err;
      }
    }
  }
}
