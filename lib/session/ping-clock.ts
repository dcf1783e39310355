/**
 * Liveness of a websocket peer: a ping every heartbeat_delay, busy or not (a peer that only
 * receives is checked too), and a verdict when the peer has sent nothing at all since an
 * unanswered ping for heartbeat_timeout. What the peer sent is read as the socket's byte count
 * when the session's timer fires, so receiving costs nothing.
 */
import type { Receiver } from './types.js';

export class PingClock {
  /** When the last ping went out (ms). */
  private lastPing: number;
  /** When the ping still unanswered went out (ms), or 0 when none is. */
  private pingAt = 0;
  /** The receiver's heardBytes() when that ping went out: anything more is an answer. */
  private heardMark = 0;

  constructor(now: number) {
    this.lastPing = now;
  }

  /** A new receiver, or the timer re-armed: counting starts afresh. */
  reset(now: number): void {
    this.lastPing = now;
    this.pingAt = 0;
  }

  /**
   * Pings when one is due; returns milliseconds until it should be asked again, or -1 when the
   * peer is silent past `timeout` (0: never checked). `heard`: the receiver's heardBytes().
   */
  tick(recv: Receiver, heard: number, now: number, delay: number, timeout: number): number {
    if (this.pingAt !== 0) {
      if (heard !== this.heardMark) this.pingAt = 0;
      else if (now - this.pingAt >= timeout - 5) return -1;
    }
    if (now - this.lastPing >= delay - 5) {
      recv.ping!();
      this.lastPing = now;
      if (timeout > 0 && this.pingAt === 0) {
        this.pingAt = now;
        this.heardMark = heard;
      }
    }
    const next = this.lastPing + delay - now;
    return this.pingAt !== 0 ? Math.min(next, this.pingAt + timeout - now) : next;
  }
}
