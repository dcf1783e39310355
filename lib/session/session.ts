/**
 * One SockJS session's outbound side: conn.write() quotes the message once and queues it in the
 * session's Outbox; every session written to in one turn of the event loop is flushed once, after that turn's
 * socket reads (session/flush.ts), so a burst of writes becomes one `a[...]` frame and one socket write (a
 * message of 4 KiB or more goes to a websocket or streaming response at once). Its life (state
 * machine, receivers, closing, the timer) is SessionLifecycle's. The raw websocket endpoint,
 * which carries no SockJS frames, is a RawSession.
 */
import { HEARTBEAT_FRAME, OPEN_FRAME, quote } from '../protocol/frames.js';
import type { SharedFrame } from '../protocol/shared-frame.js';
import { Level } from './outbox.js';
import { SessionLifecycle } from './lifecycle.js';
import { OPEN, type Receiver } from './types.js';

export * from './types.js';

// A message this long (in characters, quoted) goes to a streaming receiver at once, with what is
// queued before it, not at the end of the turn: batching saves nothing at that size (its bytes
// cost more than the write), and holding big messages back stalls a client that keeps a few in
// flight, which then waits for the whole batch before it sends more.
const EAGER_FLUSH = 4096;

export class Session extends SessionLifecycle {
  /**
   * A websocket client's message is being handled: what the handlers write waits for them to
   * return (answered()) and then leaves at once, not at the end of the turn.
   */
  answering = false;
  /** On its service's list of sessions that answered in the socket read at hand (FlushScheduler.reply). */
  replyDue = false;

  // ---- outbound ----------------------------------------------------------------------------

  /** One message from the application; false once the session is not open, or over the high-water mark. */
  write(message: string): boolean {
    return this.sendQuoted(quote(message));
  }

  /** Queues one already-quoted message; false once the session is not open. */
  sendQuoted(quoted: string): boolean {
    if (this.state !== OPEN) return false;
    this.outbox.push(quoted);
    return this.afterQueued(quoted.length);
  }

  /**
   * Queues a message that other sessions are sent in this round too. While a session's queue
   * holds only such messages, in the same order as other sessions', they all send one frame,
   * built and encoded once. A session with no receiver will not flush in this round: it queues
   * the message as its own.
   */
  sendShared(message: SharedFrame): boolean {
    if (this.state !== OPEN) return false;
    if (this.recv === null) this.outbox.push(message.quoted);
    else this.outbox.pushShared(message);
    return this.afterQueued(message.quoted.length);
  }

  /** After a message of `length` characters was queued: flush now or in this turn's flush round. */
  private afterQueued(length: number): boolean {
    const recv = this.recv;
    const box = this.outbox;
    if (recv !== null) {
      if (this.answering && length < EAGER_FLUSH) return this.underWater();
      const flusher = this.host.flusher;
      // Not while a 'drain' is owed: flush() may emit it, and never from inside write().
      if (recv.streams === true && !box.needDrain && (length >= EAGER_FLUSH || (flusher.lastFlushed === this.serial && !flusher.pending && recv.cheapFrames === true))) {
        // Later writes of this tick are batched as usual.
        flusher.due();
        if (box.mayGoOver(box.queued)) box.needDrain = true;
        this.flush(false);
        if (this.state !== OPEN || !this.underWater()) return false;
        box.needDrain = false;
        return true;
      }
      this.schedule();
    }
    return this.underWater();
  }

  /** Puts the session on this turn's flush round. */
  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    this.host.flusher.add(this);
  }

  /**
   * The handlers of a websocket client's message returned. A reply goes once the socket read that
   * brought the message is handled, with the replies to the other messages it brought: the client
   * waits for it, and the end-of-turn flush round would cost a setImmediate and another pass of
   * the event loop for one write. Messages shared with other sessions (a room's), with nothing of
   * this session's own, wait for the round, where every member gets one frame.
   */
  answered(): void {
    this.answering = false;
    const box = this.outbox;
    if (box.empty || this.recv === null) return;
    if (!box.ownQueued) this.schedule();
    else if (!this.replyDue) {
      this.replyDue = true;
      this.host.flusher.reply(this);
    }
  }

  /** True while buffered bytes are under the high-water mark; enforces the hard limit. */
  protected underWater(): boolean {
    const level = this.outbox.level();
    if (level === Level.Full) this.drop(3100, 'Send buffer full', 'limit');
    return level === Level.Under;
  }

  /** A receiver's socket drained (or a flush happened): owe 'drain' no longer if under water. */
  drainCheck(): void {
    if (!this.outbox.needDrain || this.state !== OPEN) return;
    const recv = this.recv;
    // Otherwise a write still in flight carries a callback that comes back here, or the queue
    // waits for the next receiver, whose flush does.
    if (this.outbox.drained(recv !== null ? recv.bufferedAmount : 0)) this.connection!.emit('drain');
  }

  /** Sends everything queued as one frame to the attached receiver; `drain`: may emit 'drain' (not from inside write()). */
  override flush(drain = true): void {
    const recv = this.recv;
    if (recv === null) return;
    const sent = this.outbox.sendTo(recv);
    if (sent === 0) return;
    this.host.stats.msgOut[this.transport] += Math.abs(sent);
    this.host.flusher.lastFlushed = this.serial;
    this.lastSent = Date.now();
    if (sent < 0) this.release();
    else if (this.outbox.socketBuffered > this.host.maxBuffered) {
      this.drop(3100, 'Send buffer full', 'limit');
      return;
    }
    if (drain && this.outbox.needDrain) this.drainCheck();
  }

  get bufferedAmount(): number {
    return this.outbox.queued + (this.recv !== null ? this.recv.bufferedAmount : 0);
  }

  // ---- inbound -----------------------------------------------------------------------------

  /** Messages from the client (`bytes` on the wire), in order; stops if a listener closes the session. */
  deliver(messages: readonly string[], bytes: number): void {
    const conn = this.connection;
    if (conn === null || this.state !== OPEN) return;
    const stats = this.host.stats;
    stats.msgIn[this.transport] += messages.length;
    stats.bytesIn[this.transport] += bytes;
    for (let i = 0; i < messages.length && this.state === OPEN; i++) {
      conn.emit('data', messages[i]!);
    }
  }

  deliverOne(message: string, bytes: number): void {
    if (this.state !== OPEN) return;
    const stats = this.host.stats;
    stats.msgIn[this.transport]++;
    stats.bytesIn[this.transport] += bytes;
    this.connection!.emit('data', message);
  }

  // ---- frames ------------------------------------------------------------------------------

  /** `o`; false when the receiver takes no more frames. */
  protected override sendOpenFrame(recv: Receiver): boolean {
    return recv.sendFrame(OPEN_FRAME);
  }

  protected override sendCloseFrame(recv: Receiver): void {
    recv.sendFrame(this.closeFrameText!);
  }

  /**
   * `h` after heartbeat_delay of silence; returns milliseconds until the next check, or -1 when
   * the receiver takes no more frames.
   */
  protected override heartbeatFrame(recv: Receiver, now: number, delay: number): number {
    const idle = now - this.lastSent;
    // A frame went out meanwhile: wait for the rest of the silence, so the line is never quiet
    // for longer than heartbeat_delay (proxy idle timeouts are set against it).
    if (idle < delay - 5) return delay - idle;
    if (!recv.sendFrame(HEARTBEAT_FRAME)) return -1;
    this.lastSent = now;
    return delay;
  }
}

/** The raw websocket endpoint: messages go out as they are, one websocket message each; no frames, no queue. */
export class RawSession extends Session {
  override get raw(): boolean {
    return true;
  }

  /** Straight to the socket. */
  override write(message: string): boolean {
    const recv = this.recv;
    if (this.state !== OPEN || recv === null) return false;
    const box = this.outbox;
    const owed = box.needDrain;
    if (box.mayGoOver(message.length)) box.needDrain = true;
    recv.sendRaw!(message);
    this.host.stats.msgOut[this.transport]++;
    box.socketBuffered = recv.bufferedAmount;
    if (this.underWater()) {
      box.needDrain = owed;
      return true;
    }
    return false;
  }

  protected override sendOpenFrame(): boolean {
    return true;
  }

  protected override sendCloseFrame(): void {}

  protected override heartbeatFrame(): number {
    return Infinity;
  }
}
