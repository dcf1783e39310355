/**
 * The factory: options → an Express Router that is also an EventEmitter of connections.
 * The router answers the SockJS URLs under its mount point (see routes.ts), passes every other
 * path on with next(), and installs the
 * websocket upgrade hook on its server, explicitly with attach() or on its first request.
 */
import { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import express from 'express';
import type { Router } from 'express';
import { Connection } from './connection.js';
import { sendToAll } from './broadcast.js';
import { resolveOptions, type ResolvedOptions, type SockJSOptions } from './options.js';
import { isSockJSPath, route } from './routes.js';
import { warnIfMountShared } from './shared-mount.js';
import { layerStack, releaseRouterNext } from './internals.js';
import { registries } from './registry.js';
import { Service, mountPrefix } from './service.js';
import { metricsHandler } from './metrics.js';
import type { Stats } from './stats.js';
import { installUpgradeHook, isHooked, type UpgradeableServer } from './upgrade.js';

export interface SockJSRouterEvents<Locals extends object = Record<string, unknown>> {
  connection: [conn: Connection<Locals>];
  /** The adapter lost (or could not reach) its transport; broadcasts stay local meanwhile. */
  adapter_error: [err: Error];
}

export interface BroadcastOptions {
  /** Connections that should not receive the message (for example, its sender). */
  except?: Connection<object> | Iterable<Connection<object>>;
}

/** A room of a service: `router.to('lobby').send('hi')`. */
export interface RoomTarget<Locals extends object = Record<string, unknown>> {
  /** Sends to every member (on every process, with an adapter); returns local deliveries. */
  send(message: string, options?: BroadcastOptions): number;
  /** The members on this process. */
  readonly connections: ReadonlySet<Connection<Locals>>;
}

/**
 * What `sockjs()` returns: mount it with `app.use(path, router)`. `Locals` types the connections'
 * `locals` (`sockjs<{ user: User }>()`): what the middleware in front of the router puts in `res.locals`.
 */
export interface SockJSRouter<Locals extends object = Record<string, unknown>> extends Router {
  on<K extends keyof SockJSRouterEvents>(event: K, listener: (...args: SockJSRouterEvents<Locals>[K]) => void): this;
  once<K extends keyof SockJSRouterEvents>(event: K, listener: (...args: SockJSRouterEvents<Locals>[K]) => void): this;
  off<K extends keyof SockJSRouterEvents>(event: K, listener: (...args: SockJSRouterEvents<Locals>[K]) => void): this;
  addListener<K extends keyof SockJSRouterEvents>(event: K, listener: (...args: SockJSRouterEvents<Locals>[K]) => void): this;
  removeListener<K extends keyof SockJSRouterEvents>(event: K, listener: (...args: SockJSRouterEvents<Locals>[K]) => void): this;
  removeAllListeners(event?: keyof SockJSRouterEvents): this;
  emit<K extends keyof SockJSRouterEvents>(event: K, ...args: SockJSRouterEvents<Locals>[K]): boolean;
  listenerCount(event: keyof SockJSRouterEvents): number;
  /** Routes websocket upgrades of this server through the Express app (idempotent). */
  attach(server: UpgradeableServer): this;
  /** Stops accepting sessions, closes every open one with a close frame; resolves when all are gone. */
  close(code?: number, reason?: string): Promise<void>;
  /** Sends one message to every open connection of the service, on every process (the frame is encoded once); returns local deliveries. */
  broadcast(message: string, options?: BroadcastOptions): number;
  /** Sends one message to the given connections only, on this process (sockjs-tornado's broadcast(clients, message)). */
  broadcast(connections: Iterable<Connection<object>>, message: string): number;
  /** A room, for sending to its members. */
  to(room: string): RoomTarget<Locals>;
  /** The open connections, live. */
  readonly connections: ReadonlySet<Connection<Locals>>;
  /** Live counters (sockjs-tornado's and more); `stats.dump()` gives a plain snapshot. */
  readonly stats: Stats;
  /** A handler serving this service's counters in Prometheus text format (label `service`, default: the mount path). */
  metrics(service?: string): (req: IncomingMessage, res: ServerResponse) => void;
  /** The options in force, defaults filled in (`options` is taken: it is Express's OPTIONS route). */
  readonly config: Readonly<ResolvedOptions>;
}

/** A request as Express's router leaves it. */

interface ServerSocket {
  server?: unknown;
}

function isServer(value: unknown): value is UpgradeableServer {
  return typeof value === 'object' && value !== null && typeof (value as UpgradeableServer).on === 'function' &&
    typeof (value as UpgradeableServer).listeners === 'function';
}

export function sockjs<Locals extends object = Record<string, unknown>>(options?: SockJSOptions): SockJSRouter<Locals> {
  const resolved = resolveOptions(options);
  const router = express.Router() as unknown as SockJSRouter & Record<string, unknown>;
  // The Router is a function object; give it EventEmitter's methods and state.
  for (const key of Object.getOwnPropertyNames(EventEmitter.prototype)) {
    if (key !== 'constructor') router[key] = (EventEmitter.prototype as unknown as Record<string, unknown>)[key];
  }
  EventEmitter.call(router as unknown as EventEmitter);
  const svc = new Service(resolved, router as unknown as EventEmitter);

  const dispatch = (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void): void => {
    if (svc.mountPath === null) {
      svc.mountPath = mountPrefix(req);
      warnIfMountShared(router, req);
    }
    const server = (req.socket as ServerSocket).server;
    if (isServer(server) && !isHooked(server)) installUpgradeHook(server);
    // Not a SockJS URL (e.g. /api/users under a router mounted at /api): the app's routes after
    // this router, or its 404 handler, answer it.
    if (!isSockJSPath(req.url ?? '/')) {
      next();
      return;
    }
    route(svc, req, res);
    // Still open: a stream, a poll or a body still arriving, held for seconds to hours. A SockJS
    // URL is answered here, never passed on, so the router's `next` that Express left on the
    // request (and the chain of closures behind it, ~0.8 KiB) is never called again.
    if (!res.writableEnded) releaseRouterNext(req);
  };
  router.use(dispatch);
  registries.routers.add(router);
  // Until someone adds middleware to this router, skip the Router's own layer matching: the
  // parent app has already stripped the mount path, and every path below it is ours.
  const stack = layerStack(router);
  if (stack !== undefined) {
    const routerHandle = router.handle as (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void;
    router.handle = function handle(this: unknown, req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) {
      if (stack.length === 1) dispatch(req, res, next);
      else routerHandle.call(this, req, res, next);
    } as typeof router.handle;
  }

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
  router.broadcast = ((a: string | Iterable<Connection>, b?: string | BroadcastOptions): number => {
    if (typeof a === 'string') {
      return svc.publish({ room: null, message: a, except: exceptIds(b as BroadcastOptions | undefined) });
    }
    if (a === null || typeof a !== 'object' || typeof (a as Iterable<Connection>)[Symbol.iterator] !== 'function' || typeof b !== 'string') {
      throw new TypeError('sockjs-express: broadcast(message, { except }) or broadcast(connections, message) with a string message');
    }
    return sendToAll(a, b, null);
  }) as SockJSRouter['broadcast'];
  router.to = (room: string): RoomTarget => {
    if (typeof room !== 'string' || room.length === 0 || room.length > 256) {
      throw new TypeError('sockjs-express: to(room) takes a room name of 1 to 256 characters');
    }
    return {
      send: (message: string, opts?: BroadcastOptions) => {
        if (typeof message !== 'string') throw new TypeError('sockjs-express: send(message) takes a string');
        return svc.publish({ room, message, except: exceptIds(opts) });
      },
      get connections() {
        return svc.rooms.membersOf(room);
      },
    };
  };
  router.metrics = (service?: string) => {
    if (service !== undefined && typeof service !== 'string') throw new TypeError('sockjs-express: metrics(service) takes a string label');
    return (req: IncomingMessage, res: ServerResponse) => metricsHandler({ [service ?? svc.mountPath ?? '']: router })(req, res);
  };
  return router as unknown as SockJSRouter<Locals>;
}

function exceptIds(opts: BroadcastOptions | undefined): string[] | undefined {
  const e = opts?.except;
  if (e === undefined) return undefined;
  if (e instanceof Connection) return [e.id];
  return Array.from(e, (c) => c.id);
}
