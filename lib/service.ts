/**
 * One SockJS service (what one `sockjs()` call creates): its options, its session store, its
 * open connections, the admission rules for new sessions, and the life cycle hooks its sessions
 * call. Transports and the route table work through this object; the public Router wraps it.
 */
import type { EventEmitter } from 'node:events';
import type { WebSocketServer } from 'ws';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Connection } from './connection.js';
import { iframePage, type IframePage } from './http/iframe.js';
import { EntropyPool } from './entropy.js';
import { SHUTTING_DOWN, sendError, unavailable } from './http/respond.js';
import type { LogFunction, ResolvedOptions, TransportName } from './options.js';
import { createLogger, requestId } from './log.js';
import { CLOSED, CONNECTING, RawSession, Session, type CloseCause, type SessionHost } from './session/session.js';
import { SessionStore } from './session/store.js';
import { FlushScheduler } from './session/flush.js';
import { createWebSocketServer } from './transports/websocket.js';
import { Stats, transportIndex } from './stats.js';
import { Rooms } from './rooms.js';
import type { Adapter, BroadcastPacket } from './adapter.js';
import { sendToAll } from './broadcast.js';
import { answerFor } from './figures.js';
import { Recovery } from './recovery/recovery.js';

interface RoutedRequest extends IncomingMessage {
  originalUrl?: string;
  baseUrl?: string;
}

function pathOf(u: string): string {
  const q = u.indexOf('?');
  return q === -1 ? u : u.slice(0, q);
}

/** Where the service is mounted: Express's baseUrl, or what Connect stripped from the URL. */
export function mountPrefix(req: IncomingMessage): string {
  const r = req as RoutedRequest;
  if (typeof r.baseUrl === 'string') return r.baseUrl;
  if (r.originalUrl === undefined) return '';
  const full = pathOf(r.originalUrl);
  const rest = pathOf(r.url ?? '/');
  return full.endsWith(rest) ? full.slice(0, full.length - rest.length) : '';
}

/** Express's res.locals (undefined under plain Connect). */
export function localsOf(res: ServerResponse): Record<string, unknown> | undefined {
  const locals = (res as ServerResponse & { locals?: unknown }).locals;
  return locals !== null && typeof locals === 'object' ? (locals as Record<string, unknown>) : undefined;
}

/** The browser origin of a request: its Origin header, or else its Referer's origin. */
export function requestOrigin(req: IncomingMessage): string | undefined {
  const origin = req.headers.origin;
  if (origin !== undefined) return origin;
  const referer = req.headers.referer;
  if (referer === undefined) return undefined;
  try {
    return new URL(referer).origin;
  } catch {
    return 'null';
  }
}

export class Service implements SessionHost {
  readonly store = new SessionStore();
  readonly connections = new Set<Connection>();
  readonly iframe: IframePage;
  readonly wss: WebSocketServer;
  readonly stats: Stats;
  readonly rooms = new Rooms();
  readonly flusher = new FlushScheduler();
  readonly entropy = new EntropyPool();
  readonly adapter: Adapter;
  /** null unless the `recovery` option is on. */
  readonly recovery: Recovery | null;
  accepting = true;
  /** Where the service is mounted, learnt from its first request (the default metrics label). */
  mountPath: string | null = null;
  readonly log: LogFunction;
  /** Sessions created and not yet forgotten (open, or closed and lingering). */
  private live = 0;
  private drained: (() => void) | null = null;

  constructor(
    readonly options: ResolvedOptions,
    private readonly events: EventEmitter,
  ) {
    this.iframe = iframePage(options.sockjs_url);
    this.wss = createWebSocketServer(options.max_message_size, options.compression);
    this.stats = new Stats(this.connections);
    this.log = createLogger(options.log);
    this.adapter = options.adapter;
    // With an adapter that has a shared store (sockjs-express/redis), recovery works across processes.
    const store = options.recovery !== null ? this.adapter.recoveryStore?.(options.recovery) ?? null : null;
    this.recovery = options.recovery !== null ? new Recovery(this, options.recovery, store) : null;
    this.adapter.bind({
      deliver: (packet) => this.deliverLocal(packet),
      error: (err) => this.adapterError(err),
      answer: (topic) => answerFor(this, topic),
    });
  }

  /** A transport problem of the adapter (or its recovery store): logged, and emitted as 'adapter_error'. */
  adapterError(err: Error): void {
    this.log('error', 'adapter: ' + err.message);
    if (this.events.listenerCount('adapter_error') > 0) this.events.emit('adapter_error', err);
  }

  /** Delivers to this process's connections: every one, or a room's. */
  deliverLocal(packet: BroadcastPacket): number {
    const targets = packet.room === null ? this.connections : this.rooms.membersOf(packet.room);
    const except = packet.except !== undefined && packet.except.length > 0 ? new Set(packet.except) : null;
    return sendToAll(targets, packet.message, except);
  }

  /** Delivers here and publishes to the other processes. */
  publish(packet: BroadcastPacket): number {
    // Through the shared log: delivered here too, in log order, when read back.
    if (this.recovery?.remote) return this.recovery.remote.publish(packet);
    const sent = this.deliverLocal(packet);
    this.adapter.publish(packet);
    return sent;
  }

  get heartbeatDelay(): number {
    return this.options.heartbeat_delay;
  }

  get heartbeatTimeout(): number {
    return this.options.heartbeat_timeout;
  }

  get disconnectDelay(): number {
    return this.options.disconnect_delay;
  }

  get highWaterMark(): number {
    return this.options.high_water_mark;
  }

  get maxBuffered(): number {
    return this.options.max_buffered_bytes;
  }

  /** The `origins` rule; requests with no browser origin at all are not a browser's and pass. */
  originAllowed(req: IncomingMessage): boolean {
    const check = this.options.origins;
    if (check === null) return true;
    const origin = requestOrigin(req);
    return origin === undefined || check(origin, req);
  }

  /**
   * The checks before a new session: shutting down or full (503), then the `verify` hook (403).
   * Calls `open` when all pass; otherwise answers the request itself.
   */
  admit(req: IncomingMessage, res: ServerResponse, open: () => void): void {
    if (!this.accepting || this.live >= this.options.max_sessions) {
      if (this.accepting) this.log('warn', 'session refused: max_sessions reached', { request_id: requestId(req), limit: this.options.max_sessions });
      unavailable(res, this.accepting ? 'Too many sessions; try again later.' : SHUTTING_DOWN);
      return;
    }
    const verify = this.options.verify;
    if (verify === null) {
      open();
      return;
    }
    const refuse = (why: string): void => {
      this.log('info', 'session refused: ' + why, { request_id: requestId(req), url: req.url });
      if (!res.headersSent) sendError(res, 403, 'Forbidden.');
    };
    let verdict: boolean | Promise<boolean>;
    try {
      verdict = verify(req);
    } catch (err) {
      refuse('verify threw ' + String(err));
      return;
    }
    if (verdict === true) open();
    else if (verdict === false) refuse('verify returned false');
    else if (verdict !== null && typeof verdict === 'object' && typeof verdict.then === 'function') {
      verdict.then(
        (ok) => (ok === true && !res.writableEnded && !res.destroyed ? open() : refuse('verify resolved ' + String(ok))),
        (err: unknown) => refuse('verify rejected ' + String(err)),
      );
    } else {
      refuse('verify returned ' + String(verdict) + ' (expected a boolean)');
    }
  }

  /** Runs `use` with the session of a receiving request: the existing one, or a newly admitted one. */
  withSession(req: IncomingMessage, res: ServerResponse, sessionId: string, protocol: TransportName, use: (s: Session) => void): void {
    const existing = this.store.get(sessionId);
    if (existing !== undefined) {
      use(existing);
      return;
    }
    this.admit(req, res, () => {
      // Another request may have opened it while an asynchronous verify ran.
      const session = this.store.get(sessionId) ?? this.createSession(req, sessionId, protocol, localsOf(res));
      try {
        use(session);
      } catch (err) {
        // User code (a cookie_needed handler) threw before the session got its receiver: nothing
        // would ever open or expire it.
        if (session.state === CONNECTING) this.forget(session);
        throw err;
      }
    });
  }

  createSession(req: IncomingMessage, sessionId: string | null, protocol: TransportName, locals?: Record<string, unknown>): Session {
    const transport = transportIndex(protocol);
    let session: Session;
    if (this.recovery !== null && this.recovery.requested(req, protocol)) {
      session = this.recovery.carrier(sessionId, transport, (link) => new Connection(link, req, protocol, mountPrefix(req), locals));
    } else {
      session = protocol === 'websocket-raw' ? new RawSession(sessionId, this, transport) : new Session(sessionId, this, transport);
      session.connection = new Connection(session, req, protocol, mountPrefix(req), locals);
    }
    if (sessionId !== null) this.store.add(sessionId, session);
    this.live++;
    this.log('info', 'session opened', { request_id: requestId(req), session_id: session.connection!.id, transport: protocol, remote: req.socket.remoteAddress });
    return session;
  }

  // ---- SessionHost -------------------------------------------------------------------------

  opened(session: Session): void {
    this.connectionOpened(session.connection!, session.transport);
  }

  closed(session: Session, cause: CloseCause): void {
    this.connectionClosed(session.connection!, session.transport, cause, session.closeCode);
  }

  /** A connection opens for the application (for a recoverable one: at its client's hello). */
  connectionOpened(conn: Connection, transport: number): void {
    this.connections.add(conn);
    this.stats.open[transport]++;
    this.stats.opened[transport]++;
    this.stats.start();
    this.events.emit('connection', conn);
  }

  /** A connection ends for the application ('close' follows). */
  connectionClosed(conn: Connection, transport: number, cause: CloseCause, code: number): void {
    this.connections.delete(conn);
    this.rooms.leaveAll(conn);
    this.stats.open[transport]--;
    this.stats.closedBy[cause]++;
    this.log('info', 'session closed', { session_id: conn.id, transport: conn.protocol, cause, code });
  }

  forget(session: Session): void {
    if (session.forgotten) return;
    session.forgotten = true;
    session.stopTimer();
    this.live--;
    if (session.sessionId !== null) this.store.delete(session.sessionId, session);
    if (this.drained !== null && this.live === 0) {
      const done = this.drained;
      this.drained = null;
      done();
    }
  }

  closeDelivered(session: Session): void {
    // While shutting down, a session that told its client goodbye need not linger.
    if (!this.accepting) this.forget(session);
  }

  /**
   * Stops accepting sessions and closes every open one. Resolves once every session has handed
   * its close frame to a receiver, or (for clients that never came back) after disconnect_delay.
   */
  shutdown(code: number, reason: string): Promise<void> {
    this.accepting = false;
    this.stats.stop();
    // Sessions closed before the shutdown are only lingering: there is nothing more to wait for.
    const lingering = [...this.store.values()].filter((s) => s.state === CLOSED);
    for (const session of lingering) this.forget(session);
    for (const conn of [...this.connections]) conn.session.close(code, reason, 'shutdown');
    this.recovery?.shutdown(code, reason);
    const drained = this.live === 0 ? Promise.resolve() : new Promise<void>((resolve) => {
      this.drained = resolve;
    });
    return drained.then(() => Promise.all([this.adapter.close(), this.recovery?.close()])).then(() => undefined);
  }
}
