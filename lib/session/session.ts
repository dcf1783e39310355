/**
 * One SockJS session: its state machine, its outbound queue, the one receiver attached at a time,
 * and its one timer (heartbeat while a receiver is attached, disconnect/linger while not).
 *
 * Outbound: conn.write() quotes the message once and queues it; every session written to in one
 * tick is flushed once at the end of that tick, so a burst of writes becomes one `a[...]` frame
 * and one socket write (a message of 4 KiB or more goes to a websocket or streaming response at
 * once). Inbound: transports decode payloads and call deliver().
 */
import { EventEmitter } from 'node:events';
import {
  ANOTHER_CONNECTION_FRAME,
  HEARTBEAT_FRAME,
  OPEN_FRAME,
  closeFrame,
  endShare,
  queueFrame,
} from '../protocol/frames.js';
import type { Connection } from '../connection.js';
import type { Stats } from '../stats.js';
import type { Rooms } from '../rooms.js';

export const CONNECTING = 0;
export const OPEN = 1;
export const CLOSING = 2;
export const CLOSED = 3;
export type ReadyState = typeof CONNECTING | typeof OPEN | typeof CLOSING | typeof CLOSED;

/** Why a session ended; counted in stats (sessions_closed) and logged. */
export type CloseCause = 'server' | 'client' | 'interrupted' | 'timeout' | 'limit' | 'shutdown';

/** Something that carries frames to the client: a websocket, or one HTTP response. */
export interface Receiver {
  /** Writes one frame in the transport's envelope. Returns false when the receiver can take no
   *  more frames (a polling response is answered, or a streaming one reached response_limit). */
  sendFrame(frame: string): boolean;
  /** Raw websocket only: one message, unframed. */
  sendRaw?(message: string): void;
  /** Raw websocket only: a protocol-level ping in place of the `h` frame. */
  ping?(): void;
  /** Ends the underlying response or socket; the session is done with it. */
  end(code?: number, reason?: string): void;
  /** Bytes written to the socket and not yet sent. */
  readonly bufferedAmount: number;
  /** Drops the connection at once (a client that stopped reading). */
  destroy(): void;
  /** Takes frames one after another (a websocket, a streaming response), not one frame in all. */
  readonly streams?: boolean;
  /** A frame costs one small socket write here (websockets): see sendQuoted. */
  readonly cheapFrames?: boolean;
}

/** What a session needs from the service that owns it. */
export interface SessionHost {
  readonly heartbeatDelay: number;
  readonly disconnectDelay: number;
  /** Buffered bytes above which write() returns false. */
  readonly highWaterMark: number;
  /** Buffered bytes above which the session is closed with 3100. */
  readonly maxBuffered: number;
  readonly stats: Stats;
  readonly rooms: Rooms;
  /** Called once, after the open frame went out: emits the router's 'connection' event. */
  opened(session: Session): void;
  /** Called once, when the session is closed (the 'close' event follows). */
  closed(session: Session, cause: CloseCause): void;
  /** Called when the session should be forgotten (after lingering with its close frame). */
  forget(session: Session): void;
  /** Called each time a receiver was handed the close frame. */
  closeDelivered(session: Session): void;
}

const enum TimerMode {
  None,
  Heartbeat,
  Disconnect,
  Linger,
}

// Sessions written to during this tick, flushed together at its end. Two arrays swap so that a
// flush that writes again (an echo handler inside 'data') schedules into the other one. They keep
// their storage between ticks (emptying an array by `length = 0` drops it, and every tick would
// allocate it again), so a count tells how much of `dirty` is in use.
let dirty: (Session | null)[] = [];
let dirtyCount = 0;
let spare: (Session | null)[] = [];
let flushScheduled = false;
// A message this long (in characters, quoted) goes to a streaming receiver at once, with what is
// queued before it, not at the end of the tick: batching saves nothing at that size (its bytes
// cost more than the write), and holding big messages back stalls a client that keeps a few in
// flight, which then waits for the whole batch before it sends more.
const EAGER_FLUSH = 4096;
// The session flushed last. When a write finds its own session there and nothing else waiting
// in this tick, one client has the server to itself: its first reply goes out at once, so the
// client works on it while the server handles the rest of what it read, instead of both taking
// turns over whole batches (each turn a wake-up of the other side). With other sessions waiting
// the loop is busy, and batching saves more than overlap gains.
let lastFlushed: Session | null = null;

function flushDirty(): void {
  flushScheduled = false;
  const list = dirty;
  const n = dirtyCount;
  dirty = spare;
  dirtyCount = 0;
  spare = list;
  for (let i = 0; i < n; i++) {
    const s = list[i]!;
    // Cleared as it goes: a closed session must not stay reachable from here.
    list[i] = null;
    s.scheduled = false;
    s.flush();
  }
  endShare();
}

/** EventEmitter's listener table, as emit() reads it. */
interface ListenerTable {
  _events?: { data?: unknown };
}

/**
 * `emitter.emit('data', message)`. emit() finds listeners under a computed key, a lookup that is
 * megamorphic across all the emitters of a process. The usual case, one 'data' listener, is read
 * by name and called as emit() calls it; with captureRejections on, emit() must see the
 * listener's promise.
 */
export function emitData(emitter: Connection | EventEmitter, message: string): void {
  const listener = (emitter as unknown as ListenerTable)._events?.data;
  if (typeof listener === 'function' && !EventEmitter.captureRejections) {
    (listener as (this: unknown, message: string) => void).call(emitter, message);
  } else {
    (emitter as EventEmitter).emit('data', message);
  }
}

function onTimer(session: Session): void {
  session.timerFired();
}

export class Session {
  state: ReadyState = CONNECTING;
  recv: Receiver | null = null;
  /** Quoted messages waiting for a receiver; null while empty (most sessions, most of the time). */
  queue: string[] | null = null;
  /** Characters held in `queue` (bytes for ASCII text; UTF-16 units otherwise), for bufferedAmount and limits. */
  queued = 0;
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
  /** The receiver's socket buffer as last seen (after a flush), so write() need not ask it. */
  private socketBuffered = 0;
  /**
   * write() returned false; 'drain' is owed once the buffers fall below the high-water mark.
   * While it is set, receivers write with a completion callback that calls drainCheck(): the
   * only signal that also works when the socket's own buffer never passed its high-water mark.
   */
  needDrain = false;

  constructor(
    /** The id in the URL, or null for websocket sessions (never shared, never looked up). */
    readonly sessionId: string | null,
    readonly host: SessionHost,
    /** Index of the opening transport in stats.ts's TRANSPORTS. */
    readonly transport: number,
    /** Raw websocket: messages go out unframed, one per websocket message. */
    readonly raw = false,
  ) {}

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
      const more = this.raw || recv.sendFrame(OPEN_FRAME);
      if (!more) this.release();
      else this.setTimer(TimerMode.Heartbeat);
      this.host.opened(this);
      return;
    }
    if (this.queue !== null) {
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
    if (this.state === OPEN) {
      this.closeWith(code, reason, cause);
    }
    if (this.state >= CLOSING) this.setTimer(TimerMode.Linger);
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

  /** Queues one already-quoted message; false once the session is not open. */
  sendQuoted(quoted: string): boolean {
    if (this.state !== OPEN) return false;
    if (this.queue === null) this.queue = [quoted];
    else this.queue.push(quoted);
    this.queued += quoted.length;
    const recv = this.recv;
    if (recv !== null) {
      // Not while a 'drain' is owed: flush() may emit it, and never from inside write().
      if (recv.streams === true && !this.needDrain && (quoted.length >= EAGER_FLUSH || (lastFlushed === this && !flushScheduled && recv.cheapFrames === true))) {
        if (!flushScheduled) {
          // Later writes of this tick are batched as usual.
          flushScheduled = true;
          process.nextTick(flushDirty);
        }
        if (this.mayGoOver(this.queued)) this.needDrain = true;
        this.flush(false);
        if (this.state !== OPEN) return false;
        if (!this.underWater()) return false;
        this.needDrain = false;
        return true;
      }
      if (!this.scheduled) {
        this.scheduled = true;
        dirty[dirtyCount++] = this;
        if (!flushScheduled) {
          flushScheduled = true;
          process.nextTick(flushDirty);
        }
      }
    }
    return this.underWater();
  }

  /** Raw websocket: straight to the socket, no framing, no queue. */
  sendRaw(message: string): boolean {
    if (this.state !== OPEN || this.recv === null) return false;
    const recv = this.recv;
    const owed = this.needDrain;
    if (this.mayGoOver(message.length)) this.needDrain = true;
    recv.sendRaw!(message);
    this.host.stats.msgOut[this.transport]++;
    this.socketBuffered = recv.bufferedAmount;
    if (this.underWater()) {
      this.needDrain = owed;
      return true;
    }
    return false;
  }

  /**
   * Whether writing `units` UTF-16 units now may leave the buffers over the high-water mark (at
   * most 3 bytes a unit). Decided before a write that goes out at once, so that such a write
   * carries the completion callback: with no write after it, that is what brings 'drain'.
   */
  private mayGoOver(units: number): boolean {
    return this.socketBuffered + units * 3 > this.host.highWaterMark;
  }

  /** True while buffered bytes are under the high-water mark; enforces the hard limit. */
  private underWater(): boolean {
    const total = this.queued + this.socketBuffered;
    if (total <= this.host.highWaterMark) return true;
    this.needDrain = true;
    if (total > this.host.maxBuffered) this.overflow();
    return false;
  }

  /** The client stopped reading and the buffers hit max_buffered_bytes: drop it. */
  private overflow(): void {
    this.queue = null;
    this.queued = 0;
    this.socketBuffered = 0;
    this.needDrain = false;
    const recv = this.recv;
    this.recv = null;
    this.closeWith(3100, 'Send buffer full', 'limit');
    if (recv !== null) recv.destroy();
    this.setTimer(TimerMode.Linger);
  }

  /** A receiver's socket drained (or a flush happened): owe 'drain' no longer if under water. */
  drainCheck(): void {
    if (!this.needDrain || this.state !== OPEN) return;
    const recv = this.recv;
    this.socketBuffered = recv !== null ? recv.bufferedAmount : 0;
    if (this.queued + this.socketBuffered <= this.host.highWaterMark) {
      this.needDrain = false;
      this.connection!.emit('drain');
    }
    // Otherwise a write still in flight carries a callback that comes back here, or the queue
    // waits for the next receiver, whose flush does.
  }

  /** Sends everything queued as one frame to the attached receiver; `drain`: may emit 'drain' (not from inside write()). */
  flush(drain = true): void {
    const recv = this.recv;
    const queue = this.queue;
    if (recv === null || queue === null) return;
    this.queue = null;
    this.queued = 0;
    lastFlushed = this;
    this.lastSent = Date.now();
    this.host.stats.msgOut[this.transport] += queue.length;
    if (!recv.sendFrame(queueFrame(queue))) {
      this.socketBuffered = 0;
      this.release();
    } else {
      this.socketBuffered = recv.bufferedAmount;
      if (this.socketBuffered > this.host.maxBuffered) {
        this.overflow();
        return;
      }
    }
    if (drain && this.needDrain) this.drainCheck();
  }

  get bufferedAmount(): number {
    return this.queued + (this.recv !== null ? this.recv.bufferedAmount : 0);
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
      emitData(conn, messages[i]!);
    }
  }

  deliverOne(message: string, bytes: number): void {
    if (this.state !== OPEN) return;
    const stats = this.host.stats;
    stats.msgIn[this.transport]++;
    stats.bytesIn[this.transport] += bytes;
    emitData(this.connection!, message);
  }

  // ---- closing -----------------------------------------------------------------------------

  /** Server-initiated close: the receiver (now, or the next one) gets `c[code,"reason"]`. */
  close(code: number, reason: string, cause: CloseCause = 'server'): boolean {
    if (this.state !== OPEN && this.state !== CONNECTING) return false;
    if (this.recv !== null) this.flush();
    this.closeWith(code, reason, cause);
    if (this.recv !== null) this.sendClose();
    else this.setTimer(TimerMode.Linger);
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
  }

  private closeWith(code: number, reason: string, cause: CloseCause): void {
    this.state = CLOSING;
    this.closeCode = code;
    this.closeReason = reason;
    this.closeFrameText = closeFrame(code, reason);
    this.host.closed(this, cause);
    this.state = CLOSED;
    this.ended(code, reason);
  }

  /** Tells the application the session ended (a recovery carrier leaves that to its link). */
  protected ended(code: number, reason: string): void {
    const conn = this.connection;
    if (conn !== null) conn.emit('close', code, reason);
  }

  private sendClose(): void {
    const recv = this.recv!;
    this.recv = null;
    if (this.raw) {
      recv.end(this.closeCode, this.closeReason);
    } else {
      recv.sendFrame(this.closeFrameText!);
      recv.end(this.closeCode, this.closeReason);
    }
    this.setTimer(TimerMode.Linger);
    this.host.closeDelivered(this);
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
    this.lastSent = Date.now();
  }

  stopTimer(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.timerMode = TimerMode.None;
  }

  timerFired(): void {
    switch (this.timerMode) {
      case TimerMode.Heartbeat:
      {
        if (this.recv === null) return;
        const delay = this.host.heartbeatDelay;
        const idle = Date.now() - this.lastSent;
        if (this.raw) {
          // Raw websockets have no `h` frame; a ping keeps proxies from idling the socket out.
          this.recv.ping?.();
        } else if (idle < delay - 5) {
          // A frame went out meanwhile: wait for the rest of the silence, so the line is never
          // quiet for longer than heartbeat_delay (proxy idle timeouts are set against it).
          this.timer = setTimeout(onTimer, delay - idle, this);
          this.timer.unref();
          return;
        } else if (!this.recv.sendFrame(HEARTBEAT_FRAME)) {
          this.release();
          return;
        }
        this.lastSent = Date.now();
        this.timer = setTimeout(onTimer, delay, this);
        this.timer.unref();
        return;
      }
      case TimerMode.Disconnect:
        // No receiver came back in time: the client is gone.
        this.timerMode = TimerMode.None;
        if (this.state === OPEN) this.closeWith(1006, 'Session timed out', 'timeout');
        this.setTimer(TimerMode.Linger);
        return;
      case TimerMode.Linger:
        this.timerMode = TimerMode.None;
        this.timer = null;
        if (this.recv === null) this.host.forget(this);
        return;
      default:
        return;
    }
  }
}
