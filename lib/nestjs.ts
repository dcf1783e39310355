/**
 * `sockjs-express/nestjs`: a NestJS `WebSocketAdapter`, so gateways get SockJS's fallbacks
 * (streaming and polling over HTTP) without changing their code.
 *
 *   const app = await NestFactory.create(AppModule);
 *   app.useWebSocketAdapter(new SockJSAdapter(app));
 *
 * Each gateway path (`@WebSocketGateway({ path: '/chat' })`, else the adapter's default) is one
 * sockjs() service, mounted on Nest's Express instance and given Nest's HTTP server for its
 * websocket handshakes. Messages use the shape of Nest's `ws` adapter: `{"event": …, "data": …}`.
 * Nest itself is only a type here: nothing from the Nest packages is imported at run time.
 */
import { createServer, type Server } from 'node:http';
import express from 'express';
import type { WebSocketAdapter } from '@nestjs/common';
import { sockjs, type SockJSRouter } from './router.js';
import type { Connection } from './connection.js';
import type { SockJSOptions } from './options.js';
import type { UpgradeableServer } from './upgrade.js';
import { adoptClient, routeMessages, type MessageHandler, type ObservableLike } from './nestjs/messages.js';

export type { MessageHandler, ObservableLike } from './nestjs/messages.js';

/** The part of a Nest application the adapter uses (an `INestApplication` on `@nestjs/platform-express`). */
export interface NestExpressAppLike {
  getHttpServer(): unknown;
  getHttpAdapter(): { getInstance(): unknown };
}

export interface SockJSAdapterOptions {
  /** Where gateways that name no `path` are served. Default `/sockjs`. */
  path?: string;
  /**
   * sockjs() options for every gateway's service, or a function giving them for a mount path;
   * a gateway's own `sockjs` option is laid over them. An `adapter` serves one service: with
   * several paths, give a function that makes one per path.
   */
  sockjs?: SockJSOptions | ((path: string) => SockJSOptions);
}

/** What `@WebSocketGateway(port?, options)` may carry for this adapter; other keys are ignored. */
export interface SockJSGatewayOptions {
  /** The mount path of the gateway's service. */
  path?: string;
  /** sockjs() options for this path's service, over the adapter's. */
  sockjs?: SockJSOptions;
  /** Socket.IO's namespaces: refused (SockJS has one namespace per path). */
  namespace?: unknown;
  [key: string]: unknown;
}

interface ExpressAppLike {
  use(path: string, handler: SockJSRouter): unknown;
}

function isExpressApp(value: unknown): value is ExpressAppLike {
  return typeof value === 'function' && typeof (value as { use?: unknown }).use === 'function' &&
    typeof (value as { handle?: unknown }).handle === 'function';
}

/** `/chat`, `chat/` and `/chat/` are the same mount path. */
function normalizePath(path: unknown, what: string): string {
  if (typeof path !== 'string' || path.length > 1024 || /[?#\s]/.test(path)) {
    throw new TypeError(`sockjs-express/nestjs: ${what} must be a URL path such as '/chat' (got ${JSON.stringify(path)})`);
  }
  const trimmed = path.replace(/^\/+|\/+$/g, '');
  return '/' + trimmed;
}

export class SockJSAdapter implements WebSocketAdapter<SockJSRouter, Connection, SockJSGatewayOptions> {
  readonly #app: NestExpressAppLike;
  readonly #defaultPath: string;
  readonly #defaults: SockJSOptions | ((path: string) => SockJSOptions);
  /** One service per port and path, whatever number of gateways share it. */
  readonly #services = new Map<string, SockJSRouter>();
  /** HTTP servers of gateways that asked for a port of their own. */
  readonly #ownServers = new Map<number, { server: Server; app: ExpressAppLike }>();

  constructor(app: NestExpressAppLike, options: SockJSAdapterOptions = {}) {
    if (app === null || typeof app !== 'object' || typeof app.getHttpServer !== 'function' || typeof app.getHttpAdapter !== 'function') {
      throw new TypeError('sockjs-express/nestjs: new SockJSAdapter(app) takes the Nest application (NestFactory.create)');
    }
    if (options === null || typeof options !== 'object') throw new TypeError('sockjs-express/nestjs: the adapter options must be an object');
    this.#app = app;
    this.#defaultPath = normalizePath(options.path ?? '/sockjs', 'the adapter option path');
    const defaults = options.sockjs ?? {};
    if (defaults === null || (typeof defaults !== 'object' && typeof defaults !== 'function')) {
      throw new TypeError('sockjs-express/nestjs: the adapter option sockjs must be sockjs() options or a function of the path giving them');
    }
    this.#defaults = defaults;
  }

  /** The sockjs() service for a gateway; gateways on the same port and path share one. */
  create(port: number, options: SockJSGatewayOptions = {}): SockJSRouter {
    if (options.namespace !== undefined && options.namespace !== null && options.namespace !== '') {
      throw new Error('sockjs-express/nestjs: SockJSAdapter does not support namespaces; give the gateway a path of its own instead');
    }
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new TypeError(`sockjs-express/nestjs: a gateway port must be an integer from 0 to 65535 (got ${String(port)})`);
    }
    const path = options.path === undefined ? this.#defaultPath : normalizePath(options.path, 'the gateway option path');
    if (port === 0 && path === '/') {
      throw new TypeError("sockjs-express/nestjs: a gateway on Nest's own server needs a path other than '/': the service answers every request below its path");
    }
    const key = `${port} ${path}`;
    const existing = this.#services.get(key);
    if (existing !== undefined) return existing;

    const defaults = typeof this.#defaults === 'function' ? this.#defaults(path) : this.#defaults;
    const merged: SockJSOptions = { ...defaults, ...options.sockjs };
    if (merged.adapter !== undefined && [...this.#services.values()].some((r) => r.config.adapter === merged.adapter)) {
      throw new TypeError(`sockjs-express/nestjs: the path ${path} would share another path's adapter; give the adapter option sockjs as a function of the path that makes one adapter per path`);
    }
    const router = sockjs(merged);
    // Nest connects gateways (and so calls create()) before it adds its routes and its 404
    // handler to Express: the service is mounted ahead of both.
    const { app, server } = port === 0 ? this.#nestServer() : this.#ownServer(port);
    app.use(path, router);
    router.attach(server as UpgradeableServer);
    this.#services.set(key, router);
    return router;
  }

  bindClientConnect(server: SockJSRouter, callback: (client: Connection) => void): void {
    server.on('connection', (conn) => callback(adoptClient(conn)));
  }

  /** handleDisconnect(client, reason) gets the close code and reason: `1000`, `1002 Connection interrupted`. */
  bindClientDisconnect(client: Connection, callback: (reason?: string) => void): void {
    client.once('close', (code, reason) => callback(reason === '' ? String(code) : `${code} ${reason}`));
  }

  bindMessageHandlers(client: Connection, handlers: readonly MessageHandler[], transform: (result: unknown) => ObservableLike): void {
    routeMessages(client, handlers, transform);
  }

  /** Nest's shutdown: every session of the service is closed (1001) and forgotten. */
  async close(server: SockJSRouter): Promise<void> {
    await server.close();
  }

  /** Stops the HTTP servers the adapter started for gateways with a port of their own. */
  async dispose(): Promise<void> {
    const servers = [...this.#ownServers.values()].map(({ server }) => server);
    this.#ownServers.clear();
    this.#services.clear();
    await Promise.all(servers.map((server) => new Promise<void>((done) => {
      server.close(() => done());
      server.closeAllConnections();
    })));
  }

  #nestServer(): { app: ExpressAppLike; server: unknown } {
    const app = this.#app.getHttpAdapter().getInstance();
    if (!isExpressApp(app)) {
      throw new TypeError('sockjs-express/nestjs: SockJSAdapter needs the Express platform (@nestjs/platform-express)');
    }
    return { app, server: this.#app.getHttpServer() };
  }

  // Like Nest's ws adapter: a gateway with a port of its own gets an HTTP server on that port.
  #ownServer(port: number): { app: ExpressAppLike; server: Server } {
    let own = this.#ownServers.get(port);
    if (own === undefined) {
      const app = express() as unknown as ExpressAppLike & Parameters<typeof createServer>[0];
      const server = createServer(app);
      server.listen(port);
      own = { server, app };
      this.#ownServers.set(port, own);
    }
    return own;
  }
}
