/**
 * A SockJS session that carries a recoverable connection: the client asked for recovery in its
 * URL, so the session's messages go to its link (lib/recovery/link.ts), which outlives it, and
 * each frame it flushes goes to the link's replay buffer. When the session ends without the
 * application asking, the link is parked, not closed, and keeps what the session had not sent.
 */
import { CONNECTING, OPEN, Session, type CloseCause, type Receiver } from '../session/session.js';
import { transportIndex } from '../stats.js';
import type { Link } from './link.js';
import type { ReplayBuffer } from './buffer.js';
import type { SharedFrame } from '../protocol/shared-frame.js';
import { quote } from '../protocol/frames.js';
import { control, helloInUrl, quotedStartsWithNul, RECOVERY_VERSION } from './wire.js';

/** Sent right after the open frame, so a client knows at once that this server speaks recovery. */
const READY = quote(control({ t: 'ready', v: RECOVERY_VERSION }));
/** The same, when the URL held the hello of a new connection: the welcome follows at once. */
const READY_NEW = quote(control({ t: 'ready', v: RECOVERY_VERSION, new: true }));
const WEBSOCKET = transportIndex('websocket');

/** Whether a session's queue holds `quoted` (not yet sent). */
function holds(queue: SharedFrame | readonly string[] | null, quoted: string): boolean {
  return Array.isArray(queue) && queue.includes(quoted);
}

export class Carrier extends Session {
  /** The link this session carries; null once another session took it over. */
  link: Link | null = null;
  /** The replay buffer what it flushes goes to: its link's, while it carries the link. */
  private keepIn: ReplayBuffer | null = null;

  /** Carries `link` from now on (null: nothing any more). */
  carry(link: Link | null): void {
    this.link = link;
    this.keepIn = link !== null ? link.out : null;
  }

  /**
   * The link stops using it (it closed, or the link parked or resumed elsewhere) and takes what it
   * has not sent into its replay buffer, for the next session. `drop`: this one forgets it, since
   * a SockJS session sends what it had queued to a poll that comes after it closed: the client
   * would get it there and again in the replay.
   */
  handUnsent(to: ReplayBuffer, drop: boolean): void {
    this.keepIn = null;
    to.keepFrame(this.outbox.contents());
    if (drop) this.outbox.clear();
  }

  override deliver(messages: readonly string[], bytes: number): void {
    if (this.state !== OPEN) return;
    const stats = this.host.stats;
    stats.msgIn[this.transport] += messages.length;
    stats.bytesIn[this.transport] += bytes;
    for (let i = 0; i < messages.length && this.state === OPEN; i++) {
      const link = this.link;
      if (link === null) return;
      link.receive(messages[i]!, this);
    }
  }

  override deliverOne(message: string, bytes: number): void {
    this.deliver([message], bytes);
  }

  /**
   * A receiver comes back to an open session (the next poll, or a new streaming response). What
   * went to the earlier one may have been lost on the way without SockJS noticing (a response
   * complete on the server whose tail the network dropped), so the first frame starts with a
   * checkpoint: how many messages went before it. A client that counted fewer resumes. Before the
   * client's hello, that frame is `ready` again, unless it is still queued: a client that missed
   * it would take this server for a plain one. Until the client shows it has its welcome, the
   * welcome goes first again (the client skips one it has).
   */
  override attach(recv: Receiver): void {
    if (this.state === CONNECTING) {
      super.attach(recv);
      const link = this.link;
      // Over HTTP a dropped poll could take ready and the welcome with it (wire.ts).
      const hello = link !== null && this.transport === WEBSOCKET && this.isOpen() ? helloInUrl(link.conn.url) : 0;
      if (hello > 0 && link !== null) {
        this.sendQuoted(READY_NEW);
        link.hello(this, { t: 'hello', v: hello });
      } else this.sendQuoted(READY);
      return;
    }
    const link = this.link;
    if (link !== null && this.state === OPEN && this.recv === null && link.carrier === this) {
      if (link.pending) {
        if (!link.resuming && this.outbox.empty) this.outbox.prepend(READY);
      } else {
        const checkpoint = link.checkpoint();
        if (checkpoint !== null) this.outbox.prepend(checkpoint);
        const welcome = link.welcomeAgain;
        if (welcome !== null && !holds(this.outbox.contents(), welcome)) this.outbox.prepend(welcome);
      }
    }
    super.attach(recv);
  }

  /** What leaves now is kept in the link's replay buffer. */
  override flush(drain = true): void {
    if (this.keepIn !== null && this.recv !== null) this.keepIn.keepFrame(this.outbox.contents());
    super.flush(drain);
  }

  /**
   * A room send, straight from the fan-out while the carrier is the connection's outlet, or from
   * the link. One that starts with U+0000 goes the link's way, which escapes it (and sends it
   * here as this session's own).
   */
  override sendShared(message: SharedFrame): boolean {
    if (quotedStartsWithNul(message.quoted)) return this.link !== null && this.link.sendShared(message);
    return super.sendShared(message);
  }

  private isOpen(): boolean {
    return this.state === OPEN;
  }

  /** A position marker for the message the link sends next: queued with it, never flushed alone. */
  queueMarker(quoted: string): void {
    this.outbox.push(quoted);
  }

  protected override announceOpen(): void {
    // The connection opens when the client's hello arrives (link.ts).
  }

  protected override announceClosed(cause: CloseCause): void {
    this.link?.carrierClosed(this, cause);
  }

  protected override emitClose(): void {
    // The link tells the application, when the connection really ends.
  }
}
