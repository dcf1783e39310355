/**
 * The companion client: sockjs-client with reconnection, an outgoing queue, and, with a server
 * that has `recovery` on, resumption (docs/recovery.md has the wire format this speaks).
 */
import { Emitter } from './emitter.js';
import { backoffDelay, resolveBackoff } from './backoff.js';
import { isOnline, watchEnvironment } from './environment.js';
import type { ConnectOptions, LostInfo, RecoveredInfo, RecoveringSocketEvents, SockJSConstructor, SockJSLike } from './types.js';
import { control, count, escapeApp, isControl, parseControl, unescapeApp, RECOVERY_PARAM, RECOVERY_VERSION, type HelloMessage, type WelcomeMessage } from '../recovery/wire.js';

const enum Mode { Waiting, Plain, Recovering }

const ACK_EVERY = 32;
const ACK_DELAY = 1000;

export class RecoveringSocket extends Emitter<RecoveringSocketEvents> {
  /** 'connecting' until first open, 'open', 'reconnecting' between sessions, 'closed' at the end. */
  state: 'connecting' | 'open' | 'reconnecting' | 'closed' = 'connecting';
  private sock: SockJSLike | null = null;
  private mode = Mode.Waiting;
  private readonly backoff;
  private attempt = 0;
  private everOpen = false;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private ackTimer: ReturnType<typeof setTimeout> | null = null;
  private connectTimer: ReturnType<typeof setTimeout> | null = null;
  private liveTimer: ReturnType<typeof setInterval> | null = null;
  private lastHeard = 0;
  private openedAt = 0;
  private readonly stopWatching: () => void;
  // Recovery state of the logical connection.
  private token: string | null = null;
  private received = 0;
  private ackedRecv = 0;
  /** Messages from count `outBase` on: sent and unconfirmed, then (from `sentUpTo`) not yet sent. */
  private outbox: string[] = [];
  private outBase = 0;
  private sentUpTo = 0;
  private flushing = false;
  // Where the client stands in the server's shared log (version 2, cross-process recovery):
  // every room/broadcast message up to position `pos` with rooms version `roomsVersion`, then
  // `logged` more while `counting`.
  private pos: string | null = null;
  private roomsVersion = 0;
  private logged = 0;
  private counting = false;

  constructor(private readonly url: string, private readonly options: ConnectOptions = {}) {
    super();
    this.backoff = resolveBackoff(options.reconnect);
    // Back online or back in view: a pending attempt goes now rather than after its delay.
    this.stopWatching = watchEnvironment(() => {
      if (this.state === 'reconnecting' && this.sock === null) this.open();
    });
    this.open();
  }

  /** The sockjs-client transport of the current session, if one is open. */
  get transport(): string | undefined {
    return this.sock?.transport;
  }

  /** Sends one message now, or once connected; false when the queue is full (the message was not taken). */
  send(message: string): boolean {
    if (this.state === 'closed') return false;
    const limit = this.options.queueLimit ?? 1000;
    if (this.outbox.length >= limit) return false;
    this.outbox.push(String(message));
    if ((this.mode === Mode.Plain || this.mode === Mode.Recovering) && !this.flushing) {
      // Everything sent in this turn of the event loop goes out together.
      this.flushing = true;
      queueMicrotask(() => {
        this.flushing = false;
        this.flushOut();
      });
    }
    return true;
  }

  /** Closes for good (no reconnection). */
  close(code = 1000, reason = 'Normal closure'): void {
    this.finish(code, reason);
  }

  private open(): void {
    this.clearTimer();
    const Ctor = this.options.SockJS ?? (globalThis as { SockJS?: SockJSConstructor }).SockJS;
    if (Ctor === undefined) throw new Error('sockjs-express/client: no SockJS constructor (load sockjs-client first, or pass options.SockJS)');
    const recovery = this.options.recovery !== false;
    const url = recovery ? this.url + (this.url.includes('?') ? '&' : '?') + RECOVERY_PARAM + '=1' : this.url;
    const sockOptions = { ...this.options.sockjs, ...(this.options.transports !== undefined ? { transports: this.options.transports } : {}) };
    const sock = new Ctor(url, null, sockOptions);
    this.sock = sock;
    this.mode = Mode.Waiting;
    // sockjs-client can hang in an attempt whose requests the network ate; this one is given up.
    this.connectTimer = setTimeout(() => {
      this.onClose(sock, 1006, 'Connect timeout');
      sock.close();
    }, this.options.connectTimeout ?? 10_000);
    sock.onopen = () => {
      this.openedAt = Date.now();
      if (this.everOpen) this.emit('reconnected');
      if (!recovery) this.becomePlain();
      else this.timer = setTimeout(() => this.becomePlain(), this.options.readyTimeout ?? 3000);
    };
    sock.onmessage = (e) => this.onMessage(sock, String(e.data));
    sock.onclose = (e) => this.onClose(sock, e.code, e.reason);
  }

  private onMessage(sock: SockJSLike, data: string): void {
    if (sock !== this.sock) return;
    this.lastHeard = Date.now();
    if (this.mode === Mode.Plain) {
      this.emit('message', data);
      return;
    }
    if (!isControl(data)) {
      if (this.mode === Mode.Waiting) {
        // The first message is not the server's ready: a plain SockJS server.
        this.becomePlain();
        this.emit('message', data);
        return;
      }
      this.received++;
      if (this.counting) this.logged++;
      this.emit('message', unescapeApp(data));
      this.scheduleAck();
      return;
    }
    const msg = parseControl(data);
    if (msg === null) return this.restart('bad control message');
    if (msg.t === 'ready' && this.mode === Mode.Waiting) {
      this.clearTimer();
      sock.send(control(this.hello()));
    } else if (msg.t === 'welcome') {
      this.welcome(msg);
    } else if (msg.t === 'p') {
      this.position(msg.s, msg.g);
    } else if (msg.t === 'd') {
      this.counting = false;
    } else if (msg.t === 'ack') {
      this.confirmed(count(msg.recv));
      const sent = count(msg.sent);
      // A checkpoint: this many messages went before it. Fewer here means some were lost on the way.
      if (sent !== undefined && sent !== this.received) this.restart('missed messages');
    } else if (msg.t === 'close') {
      this.finish(msg.code, msg.reason);
    }
  }

  private hello(): HelloMessage {
    if (this.token === null) return { t: 'hello', v: RECOVERY_VERSION };
    const hello: HelloMessage = { t: 'hello', v: RECOVERY_VERSION, resume: this.token, recv: this.received };
    // With a log position, another process can take the connection over (docs/recovery.md).
    if (this.pos !== null) Object.assign(hello, { s: this.pos, g: this.roomsVersion, k: this.logged, c: this.outBase, n: this.sentUpTo });
    return hello;
  }

  private position(s: unknown, g: unknown): void {
    const v = count(g);
    if (typeof s !== 'string' || v === undefined) return;
    this.pos = s;
    this.roomsVersion = v;
    this.logged = 0;
    this.counting = true;
  }

  private welcome(msg: WelcomeMessage): void {
    const { token, recovered, reason } = msg;
    const recv = count(msg.recv) ?? 0;
    const again = this.token !== null;
    this.token = token;
    this.mode = Mode.Recovering;
    let info: RecoveredInfo | null = null;
    if (recovered) {
      this.confirmed(recv);
      const moved = msg.moved === true;
      // Moved: the old process may have delivered these already; they go again (at least once).
      info = { moved, resent: moved ? this.outbox.slice(0, this.sentUpTo - this.outBase) : [], directMayBeLost: moved && msg.direct === true };
      this.sentUpTo = this.outBase;
    } else {
      this.received = 0;
      this.ackedRecv = 0;
      const unconfirmed = this.outbox.splice(0, this.sentUpTo - this.outBase);
      this.outBase = 0;
      this.sentUpTo = 0;
      this.pos = null;
      this.counting = false;
      this.position(msg.s, msg.g);
      if (again) this.lost({ reason: reason ?? 'unknown', unconfirmed });
    }
    this.opened(info);
    this.flushOut();
    // Tells the server the welcome arrived (its earlier credential can go), and where we are.
    this.ackedRecv = -1;
    this.sendAck();
  }

  private opened(recovered: RecoveredInfo | null): void {
    this.clearConnectTimer();
    this.watchLiveness();
    this.state = 'open';
    if (!this.everOpen) {
      this.everOpen = true;
      this.emit('open');
    } else if (recovered !== null && recovered.moved) {
      // As after 'lost': what the listener sends (state the new process lacks) goes first.
      this.first(() => this.emit('recovered', recovered));
    } else if (recovered !== null) {
      this.emit('recovered', recovered);
    }
  }

  /** What a 'lost' listener sends (logging in again, joining rooms) goes before what was queued while offline. */
  private lost(info: LostInfo): void {
    this.first(() => this.emit('lost', info));
  }

  private first(emit: () => void): void {
    const queued = this.outbox;
    this.outbox = [];
    emit();
    this.outbox = this.outbox.concat(queued);
  }

  private becomePlain(): void {
    if (this.sock === null || this.mode !== Mode.Waiting) return;
    this.clearTimer();
    this.mode = Mode.Plain;
    this.clearConnectTimer();
    const again = this.everOpen;
    this.state = 'open';
    if (!again) {
      this.everOpen = true;
      this.emit('open');
    } else {
      this.lost({ reason: 'unsupported', unconfirmed: [] });
    }
    this.flushOut();
  }

  /** Sends what is queued and not yet sent. Plain servers confirm nothing, so their messages are forgotten once handed over. */
  private flushOut(): void {
    const sock = this.sock;
    if (sock === null || sock.readyState !== 1) return;
    if (this.mode === Mode.Plain) {
      const all = this.outbox;
      this.outbox = [];
      for (const m of all) sock.send(m);
      return;
    }
    const from = this.sentUpTo - this.outBase;
    if (from >= this.outbox.length) return;
    if (sock.transport === 'websocket') {
      for (let i = from; i < this.outbox.length; i++) sock.send(escapeApp(this.outbox[i]!));
    } else {
      // Numbered, so that a POST the browser repeats is not delivered twice (wire.ts, BatchMessage).
      sock.send(control({ t: 'b', n: this.sentUpTo, m: this.outbox.slice(from) }));
    }
    this.sentUpTo = this.outBase + this.outbox.length;
  }

  private confirmed(n: number | undefined): void {
    if (n === undefined || n <= this.outBase) return;
    const drop = Math.min(n, this.sentUpTo) - this.outBase;
    this.outbox.splice(0, drop);
    this.outBase += drop;
  }

  private scheduleAck(): void {
    if (this.received - this.ackedRecv >= ACK_EVERY) this.sendAck();
    else if (this.ackTimer === null) this.ackTimer = setTimeout(() => this.sendAck(), ACK_DELAY);
  }

  private sendAck(): void {
    if (this.ackTimer !== null) clearTimeout(this.ackTimer);
    this.ackTimer = null;
    const sock = this.sock;
    if (sock === null || sock.readyState !== 1 || this.mode !== Mode.Recovering || this.received === this.ackedRecv) return;
    this.ackedRecv = this.received;
    sock.send(control({ t: 'ack', recv: this.received }));
  }

  /** Drops the current session and resumes at once (a gap was seen, or the server broke the format). */
  private restart(why: string): void {
    const sock = this.sock;
    if (sock === null) return;
    this.detach(sock);
    sock.close(1000, why);
    this.open();
  }

  private detach(sock: SockJSLike): void {
    sock.onopen = sock.onmessage = sock.onclose = null;
    this.sock = null;
    this.clearTimer();
    this.clearConnectTimer();
    if (this.liveTimer !== null) clearInterval(this.liveTimer);
    this.liveTimer = null;
    if (this.ackTimer !== null) clearTimeout(this.ackTimer);
    this.ackTimer = null;
  }

  private onClose(sock: SockJSLike, code: number, reason: string): void {
    if (sock !== this.sock) return;
    const wasMode = this.mode;
    this.detach(sock);
    if (wasMode === Mode.Plain && (this.options.isFinal ?? defaultFinal)(code, reason)) return this.finish(code, reason);
    if (code === 3400) return this.finish(code, reason);
    if (this.openedAt !== 0 && Date.now() - this.openedAt >= this.backoff.stableAfter) this.attempt = 0;
    this.openedAt = 0;
    if (this.attempt >= this.backoff.maxAttempts) return this.finish(4900, 'Gave up reconnecting');
    const delay = backoffDelay(this.backoff, this.attempt++);
    this.state = 'reconnecting';
    this.emit('reconnecting', { attempt: this.attempt, delay, code, reason });
    // Offline, the next try waits for the browser's 'online' event (watchEnvironment), or the longest delay.
    if (this.state === 'reconnecting') this.timer = setTimeout(() => this.open(), isOnline() ? delay : this.backoff.maxDelay);
  }

  /**
   * A session can stall with its sockets open (nothing either way, no close). Silent for half of
   * stallTimeout, the server is asked for an ack; silent for all of it, the session is dropped and resumed.
   */
  private watchLiveness(): void {
    const limit = this.options.stallTimeout ?? 10_000;
    this.lastHeard = Date.now();
    if (this.liveTimer !== null) clearInterval(this.liveTimer);
    this.liveTimer = setInterval(() => {
      const sock = this.sock;
      const quiet = Date.now() - this.lastHeard;
      if (sock === null || this.mode !== Mode.Recovering) return;
      if (quiet >= limit) this.restart('stalled');
      else if (quiet >= limit / 2 && sock.readyState === 1) sock.send(control({ t: 'ack', recv: this.received, probe: true }));
    }, limit / 2);
  }

  private clearConnectTimer(): void {
    if (this.connectTimer !== null) clearTimeout(this.connectTimer);
    this.connectTimer = null;
  }

  private clearTimer(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  private finish(code: number, reason: string): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.stopWatching();
    const sock = this.sock;
    if (sock !== null) {
      // Closing on purpose: the server ends the connection now instead of keeping it for a resume.
      if (this.mode === Mode.Recovering && sock.readyState === 1) sock.send(control({ t: 'close', code, reason }));
      this.detach(sock);
      sock.close(code >= 3000 && code <= 4999 ? code : 1000, reason);
    }
    this.clearTimer();
    this.emit('close', { code, reason });
  }
}

function defaultFinal(code: number): boolean {
  return code >= 3000 && code <= 4999 && code !== 3100;
}
