/**
 * One SockJS session: its state machine, the one receiver attached at a time, and its one timer
 * (heartbeat while a receiver is attached, disconnect/linger while not).
 *
 * Outbound: conn.write() quotes the message once and queues it in the session's Outbox; every
 * session written to in one tick is flushed once at the end of that tick (session/flush.ts), so a
 * burst of writes becomes one `a[...]` frame and one socket write (a message of 4 KiB or more goes
 * to a websocket or streaming response at once). Inbound: transports decode payloads and call
 * deliver(). The raw websocket endpoint, which carries no SockJS frames, is a RawSession.
 */
import { ANOTHER_CONNECTION_FRAME, HEARTBEAT_FRAME, OPEN_FRAME, closeFrame, quote } from '../protocol/frames.js';
import type { SharedFrame } from '../protocol/shared-frame.js';
import type { Connection } from '../connection.js';
import { Level, Outbox } from './outbox.js';
import { PingClock } from './ping-clock.js';
import { CLOSED, CLOSING, CONNECTING, OPEN, type CloseCause, type ReadyState, type Receiver, type SessionHost } from './types.js';

export * from './types.js';

const enum TimerMode {
  None,
  Heartbeat,
  Disconnect,
  Linger,
}

// A message this long (in characters, quoted) goes to a streaming receiver at once, with what is
// queued before it, not at the end of the tick: batching saves nothing at that size (its bytes
// cost more than the write), and holding big messages back stalls a client that keeps a few in
// flight, which then waits for the whole batch before it sends more.
const EAGER_FLUSH = 4096;

function onTimer(session: Session): void {
  session.timerFired();
}

export class Session {
  state: ReadyState = CONNECTING;
  recv: Receiver | null = null;
  readonly outbox: Outbox;
  /** On its service's list of sessions to flush at the end of this tick. */
  scheduled = false;
  closeCode = 0;
  closeReason = '';
  /** The close frame, kept so late receivers are told how the session ended. */
  closeFrameText: string | null = null;
  connection: Connection | null = null;
  /** Set once the host has forgotten the session; nothing may reach it any more. */
  forgotten = false;
  private timer: NodeJS.Timeout | null = null;
  private timerMode = TimerMode.None;
  /** When a frame last went to the receiver (ms); `h` goes out after heartbeat_delay of silence. */
  private lastSent = 0;
  /** Websockets that can be pinged: their peer's liveness. */
  private pings: PingClock | null = null;
  /** This session's number in its service's FlushScheduler. */
  private readonly serial: number;

  constructor(
    /** The id in the URL, or null for websocket sessions (never shared, never looked up). */
    readonly sessionId: string | null,
    readonly host: SessionHost,
    /** Index of the opening transport in stats.ts's TRANSPORTS. */
    readonly transport: number,
  ) {
    this.serial = host.flusher.nextSerial();
    this.outbox = new Outbox(host.highWaterMark, host.maxBuffered);
  }

  /** Messages go out unframed (RawSession). */
  get raw(): boolean {
    return false;
  }

  // ---- receivers ---------------------------------------------------------------------------

  /** A transport brings a receiving request or socket to this session. */
  attach(recv: Receiver): void {
    if (this.recv !== null) {
      // The protocol allows one receiver at a time; the newcomer is told and dismissed.
      recv.sendFrame(ANOTHER_CONNECTION_FRAME);
      recv.end();
      return;
    }
    if (this.state === CONNECTING) {
      this.recv = recv;
      this.state = OPEN;
      if (!this.sendOpenFrame(recv)) this.release();
      else this.setTimer(TimerMode.Heartbeat);
      this.host.opened(this);
      return;
    }
    if (!this.outbox.empty) {
      // Messages written while no receiver was attached go first, even after close.
      this.recv = recv;
      this.flush();
      if (this.recv === recv) {
        if (this.state >= CLOSING) this.sendClose();
        else this.setTimer(TimerMode.Heartbeat);
      }
      return;
    }
    if (this.state >= CLOSING) {
      recv.sendFrame(this.closeFrameText!);
      recv.end();
      this.host.closeDelivered(this);
      return;
    }
    this.recv = recv;
    this.setTimer(TimerMode.Heartbeat);
  }

  /** The receiver's connection went away before the session let it go (client abort). */
  receiverGone(recv: Receiver, code = 1002, reason = 'Connection interrupted', cause: CloseCause = 'interrupted'): void {
    if (this.recv !== recv) return;
    this.recv = null;
    const closing = this.state === OPEN;
    if (closing) this.closeWith(code, reason, cause);
    if (this.state >= CLOSING) this.setTimer(TimerMode.Linger);
    if (closing) this.emitClose();
  }

  /** Ends the current receiver (answered, or full) and waits for the next one. */
  private release(): void {
    const recv = this.recv;
    if (recv === null) return;
    this.recv = null;
    recv.end();
    this.setTimer(this.state >= CLOSING ? TimerMode.Linger : TimerMode.Disconnect);
  }

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

  /** After a message of `length` characters was queued: flush now or at the end of the tick. */
  private afterQueued(length: number): boolean {
    const recv = this.recv;
    const box = this.outbox;
    if (recv !== null) {
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
      if (!this.scheduled) {
        this.scheduled = true;
        flusher.add(this);
      }
    }
    return this.underWater();
  }

  /** True while buffered bytes are under the high-water mark; enforces the hard limit. */
  protected underWater(): boolean {
    const level = this.outbox.level();
    if (level === Level.Full) this.drop(3100, 'Send buffer full', 'limit');
    return level === Level.Under;
  }

  /**
   * Ends the session and destroys its socket: a client that stopped reading (the buffers hit
   * max_buffered_bytes), or a websocket peer that went silent (it would never answer a close).
   */
  private drop(code: number, reason: string, cause: CloseCause): void {
    this.outbox.clear();
    const recv = this.recv;
    this.recv = null;
    this.closeWith(code, reason, cause);
    if (recv !== null) recv.destroy();
    this.setTimer(TimerMode.Linger);
    this.emitClose();
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
  flush(drain = true): void {
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

  // ---- closing -----------------------------------------------------------------------------

  /** Server-initiated close: the receiver (now, or the next one) gets `c[code,"reason"]`. */
  close(code: number, reason: string, cause: CloseCause = 'server'): boolean {
    if (this.state !== OPEN && this.state !== CONNECTING) return false;
    if (this.recv !== null) this.flush();
    this.closeWith(code, reason, cause);
    if (this.recv !== null) this.sendClose();
    else this.setTimer(TimerMode.Linger);
    this.emitClose();
    return true;
  }

  /**
   * Closes without a close frame: the receiver's socket itself is closed with code and reason.
   * For clients that broke the protocol (a websocket sending broken JSON), as sockjs-node does.
   */
  abort(code: number, reason: string, cause: CloseCause): void {
    if (this.state !== OPEN) return;
    this.closeWith(code, reason, cause);
    const recv = this.recv;
    this.recv = null;
    if (recv !== null) recv.end(code, reason);
    this.setTimer(TimerMode.Linger);
    this.emitClose();
  }

  /** The state change of every close; the caller finishes with the receiver and the timer, then emitClose(). */
  private closeWith(code: number, reason: string, cause: CloseCause): void {
    this.state = CLOSING;
    this.closeCode = code;
    this.closeReason = reason;
    this.closeFrameText = closeFrame(code, reason);
    this.state = CLOSED;
    this.host.closed(this, cause);
  }

  /** 'close', once the session is done with its receiver and timer: a listener that throws leaves nothing half done. */
  protected emitClose(): void {
    const conn = this.connection;
    if (conn !== null) conn.emit('close', this.closeCode, this.closeReason);
  }

  private sendClose(): void {
    const recv = this.recv!;
    this.recv = null;
    this.sendCloseFrame(recv);
    recv.end(this.closeCode, this.closeReason);
    this.setTimer(TimerMode.Linger);
    this.host.closeDelivered(this);
  }

  // ---- what a framed session sends that a raw one does not ----------------------------------

  /** `o`; false when the receiver takes no more frames. */
  protected sendOpenFrame(recv: Receiver): boolean {
    return recv.sendFrame(OPEN_FRAME);
  }

  protected sendCloseFrame(recv: Receiver): void {
    recv.sendFrame(this.closeFrameText!);
  }

  /**
   * `h` after heartbeat_delay of silence; returns milliseconds until the next check, or -1 when
   * the receiver takes no more frames.
   */
  protected heartbeatFrame(recv: Receiver, now: number, delay: number): number {
    const idle = now - this.lastSent;
    // A frame went out meanwhile: wait for the rest of the silence, so the line is never quiet
    // for longer than heartbeat_delay (proxy idle timeouts are set against it).
    if (idle < delay - 5) return delay - idle;
    if (!recv.sendFrame(HEARTBEAT_FRAME)) return -1;
    this.lastSent = now;
    return delay;
  }

  // ---- the one timer -----------------------------------------------------------------------

  private setTimer(mode: TimerMode): void {
    if (this.forgotten) return;
    if (mode === TimerMode.Linger && this.sessionId === null) {
      // Nobody can reach a websocket session by id, so there is nothing to linger for.
      this.stopTimer();
      this.host.forget(this);
      return;
    }
    const delay = mode === TimerMode.Heartbeat ? this.host.heartbeatDelay : this.host.disconnectDelay;
    if (this.timer !== null && this.timerMode === mode && mode !== TimerMode.Linger) {
      this.timer.refresh();
    } else {
      if (this.timer !== null) clearTimeout(this.timer);
      this.timer = setTimeout(onTimer, delay, this);
      // Session timers never keep a process alive on their own.
      this.timer.unref();
    }
    this.timerMode = mode;
    const now = Date.now();
    this.lastSent = now;
    if (this.pings !== null) this.pings.reset(now);
    else if (mode === TimerMode.Heartbeat && this.recv?.heardBytes !== undefined) this.pings = new PingClock(now);
  }

  stopTimer(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.timerMode = TimerMode.None;
  }

  timerFired(): void {
    switch (this.timerMode) {
      case TimerMode.Heartbeat:
        this.heartbeat();
        return;
      case TimerMode.Disconnect: {
        // No receiver came back in time: the client is gone.
        this.timerMode = TimerMode.None;
        const closing = this.state === OPEN;
        if (closing) this.closeWith(1006, 'Session timed out', 'timeout');
        this.setTimer(TimerMode.Linger);
        if (closing) this.emitClose();
        return;
      }
      case TimerMode.Linger:
        this.timerMode = TimerMode.None;
        this.timer = null;
        if (this.recv === null) this.host.forget(this);
        return;
      default:
        return;
    }
  }

  /**
   * The heartbeat timer fired: websockets are pinged and their peer's silence judged (PingClock),
   * framed sessions get `h` after heartbeat_delay of silence; the timer is re-armed for whichever
   * is due first.
   */
  private heartbeat(): void {
    const recv = this.recv;
    if (recv === null) return;
    const delay = this.host.heartbeatDelay;
    const now = Date.now();
    let next = Infinity;
    const heard = this.pings !== null ? recv.heardBytes!() : -1;
    if (heard >= 0) {
      next = this.pings!.tick(recv, heard, now, delay, this.host.heartbeatTimeout);
      if (next < 0) {
        this.drop(1006, 'Heartbeat timed out', 'timeout');
        return;
      }
    }
    const frame = this.heartbeatFrame(recv, now, delay);
    if (frame < 0) {
      this.release();
      return;
    }
    next = Math.min(next, frame);
    // A raw websocket that cannot be pinged (hixie-76) has no heartbeat at all.
    if (next === Infinity) return;
    this.timer = setTimeout(onTimer, Math.max(next, 1), this);
    this.timer.unref();
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
