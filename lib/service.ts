/**
 * One SockJS service (what one `sockjs()` call creates): its options, its session store, its
 * open connections, and the life cycle hooks its sessions call. Transports and the route table
 * work through this object; the public Router wraps it.
 */
import type { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Connection } from './connection.js';
import { iframePage, type IframePage } from './http/iframe.js';
import { sendError } from './http/respond.js';
import type { LogFields, LogSeverity, ResolvedOptions, TransportName } from './options.js';
import { CLOSED, Session, type CloseCause, type SessionHost } from './session/session.js';
import { SessionStore } from './session/store.js';
import { createWebSocketServer } from './transports/websocket.js';

interface RoutedRequest extends IncomingMessage {
  originalUrl?: string;
  baseUrl?: string;
}

/** Where the service is mounted: Express's baseUrl, or what Connect stripped from the URL. */
export function mountPrefix(req: IncomingMessage): string {
  const r = req as RoutedRequest;
  if (typeof r.baseUrl === 'string') return r.baseUrl;
  const original = r.originalUrl;
  const url = r.url ?? '/';
  if (original === undefined) return '';
  const path = (u: string): string => {
    const q = u.indexOf('?');
    return q === -1 ? u : u.slice(0, q);
  };
  const full = path(original);
  const rest = path(url);
  return full.endsWith(rest) ? full.slice(0, full.length - rest.length) : '';
}

export class Service implements SessionHost {
  readonly store = new SessionStore();
  readonly connections = new Set<Connection>();
  readonly iframe: IframePage;
  readonly wss = createWebSocketServer(1024 * 1024);
  accepting = true;
  /** Sessions created and not yet forgotten. */
  private live = 0;
  private drained: (() => void) | null = null;

  constructor(
    readonly options: ResolvedOptions,
    private readonly events: EventEmitter,
  ) {
    this.iframe = iframePage(options.sockjs_url);
  }

  get heartbeatDelay(): number {
    return this.options.heartbeat_delay;
  }

  get disconnectDelay(): number {
    return this.options.disconnect_delay;
  }

  log(severity: LogSeverity, message: string, fields?: LogFields): void {
    this.options.log(severity, message, fields);
  }

  /** A new session for an opening request; null (and the request answered) when refused. */
  createSession(req: IncomingMessage, res: ServerResponse | null, sessionId: string | null, protocol: TransportName): Session | null {
    if (!this.accepting) {
      if (res !== null) {
        res.setHeader('Retry-After', '1');
        sendError(res, 503, 'This SockJS service is shutting down.');
      }
      return null;
    }
    const session = new Session(sessionId, this, protocol === 'websocket-raw');
    session.connection = new Connection(session, req, protocol, mountPrefix(req));
    if (sessionId !== null) this.store.add(sessionId, session);
    this.live++;
    return session;
  }

  /** The session a receiving request belongs to: the existing one, or a new one. */
  receivingSession(req: IncomingMessage, res: ServerResponse, sessionId: string, protocol: TransportName): Session | null {
    return this.store.get(sessionId) ?? this.createSession(req, res, sessionId, protocol);
  }

  // ---- SessionHost -------------------------------------------------------------------------

  opened(session: Session): void {
    const conn = session.connection!;
    this.connections.add(conn);
    this.events.emit('connection', conn);
  }

  closed(session: Session, cause: CloseCause): void {
    this.connections.delete(session.connection!);
    this.log('debug', 'session closed', { session_id: session.connection!.id, transport: session.connection!.protocol, cause });
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
    // Sessions closed before the shutdown are only lingering: there is nothing more to wait for.
    const lingering = [...this.store.values()].filter((s) => s.state === CLOSED);
    for (const session of lingering) this.forget(session);
    for (const conn of [...this.connections]) conn.session.close(code, reason, 'shutdown');
    if (this.live === 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.drained = resolve;
    });
  }
}
