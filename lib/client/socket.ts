/**
 * The companion client: sockjs-client with reconnection, an outgoing queue and, with a server that
 * has `recovery` on, resumption (wire format: docs/recovery.md). Here: the session's life cycle and
 * the wire; counting in send-queue.ts, receipts.ts and log-position.ts, timing in backoff.ts,
 * stall-watch.ts and timeout.ts, the hello in hello.ts, which closes are final in close-policy.ts.
 */
import { Emitter } from './emitter.js';
import { Attempts, resolveBackoff } from './backoff.js';
import { isOnline, watchEnvironment } from './environment.js';
import { LogPosition } from './log-position.js';
import { Receipts } from './receipts.js';
import { SendQueue } from './send-queue.js';
import { StallWatch } from './stall-watch.js';
import { Timeout } from './timeout.js';
import type { ConnectOptions, LostInfo, RecoveredInfo, RecoveringSocketEvents, SockJSConstructor, SockJSLike } from './types.js';
import { defaultFinal, sockCloseCode } from './close-policy.js';
import { helloFor, recoveryUrl } from './hello.js';
import { control, count, escapeApp, isControl, parseControl, unescapeApp, type WelcomeMessage } from '../recovery/wire.js';

const enum Mode { Waiting, Plain, Recovering }

export class RecoveringSocket extends Emitter<RecoveringSocketEvents> {
  /** 'connecting' until first open, 'open', 'reconnecting' between sessions, 'closed' at the end. */
  state: 'connecting' | 'open' | 'reconnecting' | 'closed' = 'connecting';
  private sock: SockJSLike | null = null;
  private mode = Mode.Waiting;
  private readonly attempts;
  private everOpen = false;
  /** The wait for the server's ready, then for its welcome, then the delay before the next attempt. */
  private readonly timer = new Timeout();
  private readonly connectTimer = new Timeout();
  private readonly stall: StallWatch;
  private readonly stopWatching: () => void;
  /** The credential from the last welcome (recovery state of the logical connection follows). */
  private token: string | null = null;
  private readonly receipts = new Receipts((recv) => this.sendAck(recv));
  private readonly queue = new SendQueue();
  private flushing = false;
  private readonly log = new LogPosition();
  /** Attempts in a row whose server sent no `ready` in time (readyLate). */
  private readyMisses = 0;

  constructor(private readonly url: string, private readonly options: ConnectOptions = {}) {
    super();
    this.attempts = new Attempts(resolveBackoff(options.reconnect));
    this.stall = new StallWatch(options.stallTimeout ?? 10_000, (stalled) => this.quiet(stalled));
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
    if (!this.queue.push(String(message), this.options.queueLimit ?? 1000)) return false;
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
    this.timer.clear();
    const Ctor = this.options.SockJS ?? (globalThis as { SockJS?: SockJSConstructor }).SockJS;
    if (Ctor === undefined) throw new Error('sockjs-express/client: no SockJS constructor (load sockjs-client first, or pass options.SockJS)');
    const recovery = this.options.recovery !== false;
    const url = recovery ? recoveryUrl(this.url, this.token) : this.url;
    const sockOptions = { ...this.options.sockjs, ...(this.options.transports !== undefined ? { transports: this.options.transports } : {}) };
    const sock = new Ctor(url, null, sockOptions);
    this.sock = sock;
    this.mode = Mode.Waiting;
    // sockjs-client can hang in an attempt whose requests the network ate; this one is given up.
    this.connectTimer.set(() => this.drop(sock, 'Connect timeout'), this.options.connectTimeout ?? 10_000);
    sock.onopen = () => {
      this.attempts.opened();
      if (this.everOpen) this.emit('reconnected');
      if (!recovery) this.becomePlain();
      else this.timer.set(() => this.readyLate(sock), this.options.readyTimeout ?? 3000);
    };
    sock.onmessage = (e) => this.onMessage(sock, String(e.data));
    sock.onclose = (e) => this.onClose(sock, e.code, e.reason);
  }

  private onMessage(sock: SockJSLike, data: string): void {
    if (sock !== this.sock) return;
    this.stall.heard();
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
      this.receipts.got(data.length);
      this.log.got();
      this.emit('message', unescapeApp(data));
      return;
    }
    const msg = parseControl(data);
    if (msg === null) return this.restart('bad control message');
    if (msg.t === 'ready' && this.mode === Mode.Waiting) {
      if (msg.new !== true || this.token !== null) sock.send(control(helloFor(this.token, this.receipts.count, this.log, this.queue)));
      // A session that stalls before the welcome is retried soon: the server's replay buffer fills meanwhile.
      this.timer.set(() => this.drop(sock, 'No welcome'), this.options.readyTimeout ?? 3000);
    } else if (msg.t === 'welcome') {
      // Over HTTP the server sends it again until it knows it arrived: one already had is skipped.
      if (msg.token !== this.token) this.welcome(msg);
    } else if (msg.t === 'p') {
      this.log.mark(msg.s, msg.g);
    } else if (msg.t === 'd') {
      this.log.direct();
    } else if (msg.t === 'ack') {
      this.queue.confirm(count(msg.recv));
      const sent = count(msg.sent);
      // A checkpoint: this many messages went before it. Fewer here means some were lost on the way.
      if (sent !== undefined && sent !== this.receipts.count) this.restart('missed messages');
    } else if (msg.t === 'close') {
      this.finish(msg.code, msg.reason);
    }
  }

  private welcome(msg: WelcomeMessage): void {
    const { token, recovered, reason } = msg;
    const recv = count(msg.recv) ?? 0;
    const again = this.token !== null;
    this.timer.clear();
    this.token = token;
    this.readyMisses = 0;
    this.mode = Mode.Recovering;
    this.receipts.cadence(count(msg.ack), count(msg.ack_chars));
    let info: RecoveredInfo | null = null;
    if (recovered) {
      this.queue.confirm(recv);
      const moved = msg.moved === true;
      // Moved: the old process may have delivered these already; they go again (at least once).
      info = { moved, resent: moved ? this.queue.unconfirmed() : [], directMayBeLost: moved && msg.direct === true };
      this.queue.rewind();
    } else {
      this.receipts.reset();
      const unconfirmed = this.queue.restart();
      this.log.reset(msg.s, msg.g);
      if (again) this.lost({ reason: reason ?? 'unknown', unconfirmed });
    }
    this.opened(info);
    this.flushOut();
    // It arrived: the earlier credential can go, over HTTP it need not come again (a new websocket connection has neither).
    if (recovered || this.sock?.transport !== 'websocket') this.receipts.ack(true);
  }

  private opened(recovered: RecoveredInfo | null): void {
    this.connectTimer.clear();
    this.stall.start();
    this.state = 'open';
    if (!this.everOpen) {
      this.everOpen = true;
      this.emit('open');
    } else if (recovered !== null && recovered.moved) {
      // As after 'lost': what the listener sends (state the new process lacks) goes first.
      this.queue.queueFirst(() => this.emit('recovered', recovered));
    } else if (recovered !== null) {
      this.emit('recovered', recovered);
    }
  }

  /** What a 'lost' listener sends (logging in again, joining rooms) goes before what was queued while offline. */
  private lost(info: LostInfo): void {
    this.queue.queueFirst(() => this.emit('lost', info));
  }

  /**
   * No `ready` in time: a plain server, unless this one welcomed us before (a slow session is likelier):
   * retried twice; the third attempt waits 4× longer before going plain (unless an app message says so first).
   */
  private readyLate(sock: SockJSLike): void {
    const misses = this.token === null ? 4 : ++this.readyMisses;
    if (misses < 3) this.drop(sock, 'No ready message');
    else if (misses === 3) this.timer.set(() => this.readyLate(sock), 4 * (this.options.readyTimeout ?? 3000));
    else this.becomePlain();
  }

  /** Gives up an attempt that went nowhere; the next comes after the usual delay. */
  private drop(sock: SockJSLike, reason: string): void {
    this.onClose(sock, 1006, reason);
    sock.close();
  }

  private becomePlain(): void {
    if (this.sock === null || this.mode !== Mode.Waiting) return;
    this.timer.clear();
    this.mode = Mode.Plain;
    this.connectTimer.clear();
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
      for (const m of this.queue.takeAll()) sock.send(m);
      return;
    }
    const unsent = this.queue.takeUnsent();
    if (unsent === null) return;
    if (sock.transport === 'websocket') for (const m of unsent.messages) sock.send(escapeApp(m));
    // Numbered, so that a POST the browser repeats is not delivered twice (wire.ts, BatchMessage).
    else sock.send(control({ t: 'b', n: unsent.from, m: unsent.messages }));
  }

  private sendAck(recv: number): boolean {
    const sock = this.sock;
    const ok = sock !== null && sock.readyState === 1 && this.mode === Mode.Recovering;
    if (ok) sock.send(control({ t: 'ack', recv }));
    return ok;
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
    this.timer.clear();
    this.connectTimer.clear();
    this.stall.stop();
    this.receipts.stop();
  }

  private onClose(sock: SockJSLike, code: number, reason: string): void {
    if (sock !== this.sock) return;
    const wasMode = this.mode;
    this.detach(sock);
    if (wasMode === Mode.Plain && (this.options.isFinal ?? defaultFinal)(code, reason)) return this.finish(code, reason);
    if (code === 3400) return this.finish(code, reason);
    const next = this.attempts.next();
    if (next === null) return this.finish(4900, 'Gave up reconnecting');
    this.state = 'reconnecting';
    this.emit('reconnecting', { ...next, code, reason });
    // Offline, the next try waits for the browser's 'online' event (watchEnvironment), or the longest delay.
    if (this.state === 'reconnecting') this.timer.set(() => this.open(), isOnline() ? next.delay : this.attempts.options.maxDelay);
  }

  /** The server has been silent for a while (stall-watch.ts): probed with an ack request, or, stalled, resumed anew. */
  private quiet(stalled: boolean): void {
    const sock = this.sock;
    if (sock === null || this.mode !== Mode.Recovering) return;
    if (stalled) this.restart('stalled');
    else if (sock.readyState === 1) sock.send(control({ t: 'ack', recv: this.receipts.count, probe: true }));
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
      sock.close(sockCloseCode(code), reason);
    }
    this.timer.clear();
    this.emit('close', { code, reason });
  }
}
