/**
 * The life of one SockJS session, whatever it sends: its state machine, the one receiver attached
 * at a time, closing, and its one timer (heartbeat while a receiver is attached, disconnect/linger
 * while not). What it sends and how is Session's (session.ts).
 */
import { ANOTHER_CONNECTION_FRAME, closeFrame } from '../protocol/frames.js';
import type { Connection } from '../connection.js';
import { Outbox } from './outbox.js';
import { PingClock } from './ping-clock.js';
import { CLOSED, CLOSING, CONNECTING, OPEN, type CloseCause, type ReadyState, type Receiver, type SessionHost } from './types.js';

const enum TimerMode {
  None,
  Heartbeat,
  Disconnect,
  Linger,
}

function onTimer(session: SessionLifecycle): void {
  session.timerFired();
}

export abstract class SessionLifecycle {
  state: ReadyState = CONNECTING;
  recv: Receiver | null = null;
  readonly outbox: Outbox;
  /** On its service's list of sessions to flush in this turn's flush round. */
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
  protected lastSent = 0;
  /** Websockets that can be pinged: their peer's liveness. */
  private pings: PingClock | null = null;
  /** This session's number in its service's FlushScheduler. */
  protected readonly serial: number;

  constructor(
    /** The id in the URL, or null for websocket sessions (never shared, never looked up). */
    readonly sessionId: string | null,
    readonly host: SessionHost,
    /** Index of the opening transport in stats.ts's TRANSPORTS. */
    readonly transport: number,
  ) {
    this.serial = host.flusher.nextSerial();
    this.outbox = new Outbox(host);
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
      this.announceOpen();
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
  protected release(): void {
    const recv = this.recv;
    if (recv === null) return;
    this.recv = null;
    recv.end();
    this.setTimer(this.state >= CLOSING ? TimerMode.Linger : TimerMode.Disconnect);
  }

  /**
   * Ends the session and destroys its socket: a client that stopped reading (the buffers hit
   * max_buffered_bytes), or a websocket peer that went silent (it would never answer a close).
   */
  protected drop(code: number, reason: string, cause: CloseCause): void {
    const recv = this.recv;
    this.recv = null;
    // What was queued is still there when the close is announced (a recovery link keeps it).
    this.closeWith(code, reason, cause);
    this.outbox.clear();
    if (recv !== null) recv.destroy();
    this.setTimer(TimerMode.Linger);
    this.emitClose();
  }

  /** Sends everything queued as one frame to the attached receiver; `drain`: may emit 'drain'. */
  abstract flush(drain?: boolean): void;

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
    this.announceClosed(cause);
  }

  /** The open frame went out: the service emits 'connection' (a recovery Carrier waits for its client's hello instead). */
  protected announceOpen(): void {
    this.host.opened(this);
  }

  /** The session is closed: the service forgets the connection (a recovery Carrier tells its link instead). */
  protected announceClosed(cause: CloseCause): void {
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

  // ---- what a framed session sends that a raw one does not (Session, RawSession) ------------

  /** `o`; false when the receiver takes no more frames. */
  protected abstract sendOpenFrame(recv: Receiver): boolean;
  protected abstract sendCloseFrame(recv: Receiver): void;
  /** `h` when due; milliseconds until the next check, -1 when the receiver takes no more frames, Infinity for none. */
  protected abstract heartbeatFrame(recv: Receiver, now: number, delay: number): number;

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
