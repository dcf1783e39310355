/**
 * The factory: options → an Express Router that is also an EventEmitter of connections.
 * The router answers every path under its mount point (see routes.ts) and installs the
 * websocket upgrade hook on its server, explicitly with attach() or on its first request.
 */
import { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import express from 'express';
import type { Router } from 'express';
import { Connection } from './connection.js';
import { quote } from './protocol/frames.js';
import { resolveOptions, type ResolvedOptions, type SockJSOptions } from './options.js';
import { route } from './routes.js';
import { Service, mountPrefix } from './service.js';
import { metricsHandler } from './metrics.js';
import type { Stats } from './stats.js';
import { installUpgradeHook, isHooked, type UpgradeableServer } from './upgrade.js';

export interface SockJSRouterEvents {
  connection: [conn: Connection];
}

export interface BroadcastOptions {
  /** Connections that should not receive the message (for example, its sender). */
  except?: Connection | Iterable<Connection>;
}

/** What `sockjs()` returns: mount it with `app.use(path, router)`. */
export interface SockJSRouter extends Router {
  on<K extends keyof SockJSRouterEvents>(event: K, listener: (...args: SockJSRouterEvents[K]) => void): this;
  once<K extends keyof SockJSRouterEvents>(event: K, listener: (...args: SockJSRouterEvents[K]) => void): this;
  off<K extends keyof SockJSRouterEvents>(event: K, listener: (...args: SockJSRouterEvents[K]) => void): this;
  addListener<K extends keyof SockJSRouterEvents>(event: K, listener: (...args: SockJSRouterEvents[K]) => void): this;
  removeListener<K extends keyof SockJSRouterEvents>(event: K, listener: (...args: SockJSRouterEvents[K]) => void): this;
  removeAllListeners(event?: keyof SockJSRouterEvents): this;
  emit<K extends keyof SockJSRouterEvents>(event: K, ...args: SockJSRouterEvents[K]): boolean;
  listenerCount(event: keyof SockJSRouterEvents): number;
  /** Routes websocket upgrades of this server through the Express app (idempotent). */
  attach(server: UpgradeableServer): this;
  /** Stops accepting sessions, closes every open one with a close frame; resolves when all are gone. */
  close(code?: number, reason?: string): Promise<void>;
  /** Sends one message to every open connection (the frame is encoded once). */
  broadcast(message: string, options?: BroadcastOptions): number;
  /** The open connections, live. */
  readonly connections: ReadonlySet<Connection>;
  /** Live counters (sockjs-tornado's and more); `stats.dump()` gives a plain snapshot. */
  readonly stats: Stats;
  /** A handler serving this service's counters in Prometheus text format (label `service`, default: the mount path). */
  metrics(service?: string): (req: IncomingMessage, res: ServerResponse) => void;
  /** The options in force, defaults filled in (`options` is taken: it is Express's OPTIONS route). */
  readonly config: Readonly<ResolvedOptions>;
}

interface ServerSocket {
  server?: unknown;
}

function isServer(value: unknown): value is UpgradeableServer {
  return typeof value === 'object' && value !== null && typeof (value as UpgradeableServer).on === 'function' &&
    typeof (value as UpgradeableServer).listeners === 'function';
}

export function sockjs(options?: SockJSOptions): SockJSRouter {
  const resolved = resolveOptions(options);
  const router = express.Router() as unknown as SockJSRouter & Record<string, unknown>;
  // The Router is a function object; give it EventEmitter's methods and state.
  for (const key of Object.getOwnPropertyNames(EventEmitter.prototype)) {
    if (key !== 'constructor') router[key] = (EventEmitter.prototype as unknown as Record<string, unknown>)[key];
  }
  EventEmitter.call(router as unknown as EventEmitter);
  const svc = new Service(resolved, router as unknown as EventEmitter);

  router.use((req: IncomingMessage, res: ServerResponse) => {
    if (svc.mountPath === null) svc.mountPath = mountPrefix(req);
    const server = (req.socket as ServerSocket).server;
    if (isServer(server) && !isHooked(server)) installUpgradeHook(server);
    route(svc, req, res);
  });

  Object.defineProperties(router, {
    connections: { value: svc.connections, enumerable: true },
    stats: { value: svc.stats, enumerable: true },
    config: { value: Object.freeze({ ...resolved }), enumerable: true },
  });
  router.attach = function attach(server: UpgradeableServer) {
    if (!isServer(server)) {
      throw new TypeError('sockjs-express: attach(server) takes the http.Server or https.Server that serves the app');
    }
    installUpgradeHook(server);
    return this;
  };
  router.close = (code = 1001, reason = 'Server is shutting down') => svc.shutdown(code, reason);
  router.broadcast = (message: string, opts?: BroadcastOptions) => broadcast(svc, message, opts);
  router.metrics = (service?: string) => {
    if (service !== undefined && typeof service !== 'string') throw new TypeError('sockjs-express: metrics(service) takes a string label');
    return (req: IncomingMessage, res: ServerResponse) => metricsHandler({ [service ?? svc.mountPath ?? '']: router })(req, res);
  };
  return router;
}

function broadcast(svc: Service, message: string, opts?: BroadcastOptions): number {
  const text = typeof message === 'string' ? message : String(message);
  let except: ReadonlySet<Connection> | null = null;
  if (opts?.except instanceof Connection) except = new Set([opts.except]);
  else if (opts?.except !== undefined) except = new Set(opts.except);
  let quoted: string | null = null;
  let sent = 0;
  for (const conn of svc.connections) {
    if (except !== null && except.has(conn)) continue;
    const s = conn.session;
    if (s.raw) {
      if (s.sendRaw(text)) sent++;
    } else {
      if (quoted === null) quoted = quote(text);
      if (s.sendQuoted(quoted)) sent++;
    }
  }
  return sent;
}
