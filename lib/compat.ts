/**
 * `sockjs-express/compat`: the sockjs-node API on top of sockjs-express, for a one-line switch.
 *
 *   const sockjs = require('sockjs-express/compat');        // was: require('sockjs')
 *   const echo = sockjs.createServer({ prefix: '/echo' });
 *   echo.on('connection', (conn) => conn.on('data', (m) => conn.write(m)));
 *   echo.installHandlers(server);                           // or echo.attach(server)
 *
 * Each installHandlers()/attach() runs one sockjs-express service; all of a server's services
 * emit their connections on it, wrapped as sockjs-node connections (Duplex streams).
 */
import { EventEmitter } from 'node:events';
import { sockjs } from './router.js';
import type { SockJSRouter } from './router.js';
import { TRANSPORT_NAMES, resolveOptions, type SockJSOptions, type TransportName } from './options.js';
import type { UpgradeableServer } from './upgrade.js';
import { SockJSConnection } from './compat/connection.js';
import { install, prefixMatcher, type Installation } from './compat/install.js';
import { Multiplexer, type Channel, type MultiplexOptions } from './multiplex.js';

export { SockJSConnection };

/** sockjs-node's options (0.3 and 0.4), plus any sockjs-express option. */
export interface ServerOptions extends SockJSOptions {
  /** Where the service answers, e.g. `/echo` (sockjs-node 0.3's regex form `[/]echo` works too). Default: every path. */
  prefix?: string;
  /** false turns websockets off, both the SockJS and the raw endpoint (sockjs-node 0.3). Default true. */
  websocket?: boolean;
  /** The transports to serve (sockjs-node 0.4): names from TRANSPORT_NAMES. Default: all. */
  transports?: readonly TransportName[];
  /** Accepted and ignored: there is no faye-websocket underneath. */
  faye_server_options?: unknown;
}

export interface SockJSServerEvents {
  connection: [conn: SockJSConnection];
}

const OWN_KEYS = ['prefix', 'websocket', 'transports', 'faye_server_options'] as const;

function checkObject(o: unknown, what: string): Record<string, unknown> {
  if (o === undefined || o === null) return {};
  if (typeof o !== 'object' || Array.isArray(o)) {
    throw new TypeError(`sockjs-express: ${what} must be an object (got ${Array.isArray(o) ? 'an array' : typeof o})`);
  }
  return o as Record<string, unknown>;
}

/** sockjs-node options → sockjs-express options (which then validate the rest). */
function coreOptions(o: Record<string, unknown>): SockJSOptions {
  const rest: Record<string, unknown> = { ...o };
  for (const k of OWN_KEYS) delete rest[k];
  if (o.prefix !== undefined && typeof o.prefix !== 'string') {
    throw new TypeError(`sockjs-express: option "prefix" must be a string such as "/echo" (got ${typeof o.prefix})`);
  }
  if (o.websocket !== undefined && typeof o.websocket !== 'boolean') {
    throw new TypeError(`sockjs-express: option "websocket" must be true or false (got ${typeof o.websocket})`);
  }
  const disabled = new Set<TransportName>(Array.isArray(o.disabled_transports) ? (o.disabled_transports as TransportName[]) : []);
  const t = o.transports;
  if (t !== undefined) {
    if (!Array.isArray(t) || t.some((n) => typeof n !== 'string' || !(TRANSPORT_NAMES as readonly string[]).includes(n))) {
      throw new TypeError(`sockjs-express: option "transports" must be an array of ${TRANSPORT_NAMES.join(', ')}`);
    }
    for (const name of TRANSPORT_NAMES) if (!(t as string[]).includes(name)) disabled.add(name);
  }
  if (o.websocket === false) {
    disabled.add('websocket');
    disabled.add('websocket-raw');
  }
  if (disabled.size > 0) rest.disabled_transports = [...disabled];
  // sockjs-node answers the pre-2011 hixie-76 handshake (through faye-websocket) unless told not to.
  if (rest.hixie76 === undefined) rest.hixie76 = true;
  return rest as SockJSOptions;
}

/** sockjs-node's Server: an EventEmitter of 'connection' that installs itself on http servers. */
export class SockJSServer extends EventEmitter<SockJSServerEvents> {
  /** The options given to createServer(), as sockjs-node exposes them. */
  readonly options: Readonly<ServerOptions>;
  readonly #installed: { inst: Installation; router: SockJSRouter; attached: boolean }[] = [];

  constructor(options?: ServerOptions) {
    super();
    const o = checkObject(options, 'options');
    // Validate now, not at the first installHandlers(), so a bad option fails where it is written.
    resolveOptions(coreOptions(o));
    this.options = Object.freeze({ prefix: '', ...o }) as Readonly<ServerOptions>;
  }

  /**
   * Serves this service on `server` under `prefix` (from `handlerOptions`, else from the server's
   * options); requests outside it go to the listeners the server had. Options given here override
   * createServer()'s for this installation only. Returns true, as sockjs-node does.
   */
  installHandlers(server: UpgradeableServer, handlerOptions?: ServerOptions): true {
    this.#install(server, handlerOptions, false);
    return true;
  }

  /** sockjs-node 0.4's name for installHandlers(server) with the createServer() options; once per server. */
  attach(server: UpgradeableServer): void {
    if (this.#installed.some((i) => i.attached && i.inst.server === server)) return;
    this.#install(server, undefined, true);
  }

  /** Removes every installation of this service from `server`, putting back the listeners it replaced. Open sessions stay. */
  detach(server: UpgradeableServer): void {
    for (let i = this.#installed.length - 1; i >= 0; i--) {
      const entry = this.#installed[i]!;
      if (entry.inst.server !== server) continue;
      entry.inst.detach();
      this.#installed.splice(i, 1);
    }
  }

  /** Closes every open session of this service (sockjs-express addition); resolves when all are gone. */
  close(code?: number, reason?: string): Promise<void> {
    return Promise.all(this.#installed.map((i) => i.router.close(code, reason))).then(() => undefined);
  }

  #install(server: UpgradeableServer, handlerOptions: ServerOptions | undefined, attached: boolean): void {
    if (server === null || typeof server !== 'object' || typeof server.on !== 'function' || typeof server.listeners !== 'function') {
      throw new TypeError('sockjs-express: installHandlers(server) takes an http.Server or https.Server');
    }
    const merged = { ...this.options, ...checkObject(handlerOptions, 'handler options') };
    const router = sockjs(coreOptions(merged));
    router.on('connection', (conn) => this.emit('connection', new SockJSConnection(conn)));
    const inst = install(server, prefixMatcher((merged.prefix as string | undefined) ?? ''), router);
    this.#installed.push({ inst, router, attached });
  }
}

/** sockjs-node's `createServer(options)`. */
export function createServer(options?: ServerOptions): SockJSServer {
  return new SockJSServer(options);
}

/** sockjs-node's `listen(server, options)`: createServer() and attach it to `server`. */
export function listen(server?: UpgradeableServer, options?: ServerOptions): SockJSServer {
  const srv = createServer(options);
  if (server !== undefined && server !== null) srv.attach(server);
  return srv;
}

/**
 * The server half of the `websocket-multiplex` package, for apps that used it with sockjs-node:
 * `new MultiplexServer(service).registerChannel('chat').on('connection', ...)`.
 */
export class MultiplexServer {
  readonly #mux: Multiplexer<SockJSConnection>;

  constructor(service: SockJSServer, options?: MultiplexOptions) {
    this.#mux = new Multiplexer<SockJSConnection>(service, options);
  }

  registerChannel(name: string): Channel<SockJSConnection> {
    return this.#mux.channel(name);
  }
}

export { SockJSServer as Server };
export type { Channel, ChannelConnection } from './multiplex.js';
export type { TransportName, LogSeverity } from './options.js';

/** `import sockjs from 'sockjs-express/compat'`: createServer itself, with createServer/listen/Server on it as in require('sockjs'). */
const compat = Object.assign((options?: ServerOptions) => createServer(options), {
  createServer,
  listen,
  Server: SockJSServer,
});
export default compat;
