/**
 * A SockJS session that carries a recoverable connection: the client asked for recovery in its
 * URL, so the session's messages go to its link (lib/recovery/link.ts), which outlives it. When
 * the session ends without the application asking, the link is parked, not closed.
 */
import { CONNECTING, OPEN, Session, type CloseCause, type Receiver } from '../session/session.js';
import type { Link } from './link.js';
import { quote } from '../protocol/frames.js';
import { control, RECOVERY_VERSION } from './wire.js';

/** Sent right after the open frame, so a client knows at once that this server speaks recovery. */
const READY = quote(control({ t: 'ready', v: RECOVERY_VERSION }));

export class Carrier extends Session {
  /** The link this session carries; null once another session took it over. */
  link: Link | null = null;

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
   * checkpoint: how many messages went before it. A client that counted fewer resumes.
   */
  override attach(recv: Receiver): void {
    if (this.state === CONNECTING) {
      super.attach(recv);
      this.sendQuoted(READY);
      return;
    }
    const link = this.link;
    if (link !== null && this.state === OPEN && this.recv === null && link.carrier === this) {
      const checkpoint = link.checkpoint(this.outbox.waiting());
      if (checkpoint !== null) this.outbox.prepend(checkpoint);
    }
    super.attach(recv);
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
