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

  private flushAll(): void {
    this.pending = false;
    const list = this.dirty;
    const n = this.count;
    this.dirty = this.spare;
    this.count = 0;
    this.spare = list;
    for (let i = 0; i < n; i++) {
      const s = list[i]!;
      // Cleared as it goes: a closed session must not stay reachable from here.
      list[i] = null;
      s.scheduled = false;
      try {
        s.flush();
      } catch (err) {
        // A listener (drain, close) or the log threw: the sessions after this one still get
        // their flush, in a round of their own, and the error goes on to the caller.
        for (let j = i + 1; j < n; j++) {
          this.dirty[this.count++] = list[j]!;
          list[j] = null;
        }
        if (this.count > 0) this.due();
        throw err;
      }
    }
  }
}
