/**
 * The object user code holds for each SockJS session: a WebSocket-like event emitter.
 * Request details are captured once from the request that opened the session, without keeping
 * the request itself alive; cookies and query are parsed only when first read.
 */
import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { parse as parseCookie } from 'cookie';
import type { CloseCause, ReadyState, SessionHost } from './session/session.js';
import type { SharedFrame } from './protocol/shared-frame.js';
import type { TransportName } from './options.js';
import type { ResumeInfo } from './recovery/resume-info.js';

export interface ConnectionEvents {
  /** One message from the client, in the order sent. */
  data: [message: string];
  /** The session ended: exactly once, whoever closed it. */
  close: [code: number, reason: string];
  /** Buffered bytes fell back under the high-water mark after write() returned false. */
  drain: [];
  /** With `recovery`: the client came back within the window; missed writes are being replayed (docs/recovery.md). */
  resume: [info: ResumeInfo];
}

/**
 * What a connection drives: its SockJS session, or, with `recovery`, the link that outlives the
 * client's SockJS sessions (lib/recovery/link.ts).
 */
export interface ConnectionSession {
  readonly state: ReadyState;
  /** Messages go out unframed (the raw websocket endpoint). */
  readonly raw: boolean;
  readonly host: SessionHost;
  readonly bufferedAmount: number;
  /** One message from the application. */
  write(message: string): boolean;
  /** One message several connections are sent in this round (a broadcast or room send). */
  sendShared(message: SharedFrame): boolean;
  close(code: number, reason: string, cause?: CloseCause): boolean;
  /** The connection joined or left a room (recovery across processes keeps track). */
  roomsChanged?(): void;
}

/** Where a connection's room sends and broadcasts go (sendToAll). */
export type Outlet = Pick<ConnectionSession, 'state' | 'raw' | 'write' | 'sendShared'>;

/** Request headers a connection exposes: proxy and client identification, never cookies or auth. */
const EXPOSED_HEADERS = [
  'origin', 'referer', 'user-agent', 'host', 'accept-language', 'dnt', 'via',
  'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-port', 'x-forwarded-proto',
  'x-real-ip', 'x-client-ip', 'x-cluster-client-ip', 'x-ssl', 'forwarded',
] as const;

export type ConnectionHeaders = Partial<Record<(typeof EXPOSED_HEADERS)[number], string>>;

const NO_LOCALS: Readonly<Record<string, unknown>> = Object.freeze({});
const NO_IPS: readonly string[] = Object.freeze([]);

/** What Express puts on its requests (through the app's request prototype): `trust proxy` applied. */
interface ExpressAddress {
  readonly ip?: unknown;
  readonly ips?: unknown;
}

function pickHeaders(req: IncomingMessage): ConnectionHeaders {
  const out: ConnectionHeaders = {};
  const h = req.headers;
  for (const name of EXPOSED_HEADERS) {
    const v = h[name];
    if (v !== undefined) out[name] = Array.isArray(v) ? v.join(', ') : v;
  }
  return out;
}

/**
 * The opening request's details and the outbound buffer: what a wrapper around a connection (a
 * channel connection, the compat connection) reads through from the connection it wraps.
 */
export interface RequestDetails {
  /** The transport that opened the session. */
  readonly protocol: string;
  /** The client's address as Express's `req.ip` computes it (`trust proxy` honoured); the peer address outside Express. */
  readonly ip: string | undefined;
  /** Express's `req.ips`: with `trust proxy`, the X-Forwarded-For addresses from the client's to the first trusted proxy's; else empty. */
  readonly ips: readonly string[];
  readonly remoteAddress: string | undefined;
  readonly remotePort: number | undefined;
  /** The opening request's URL as the server received it (mount path included). */
  readonly url: string;
  /** `url` without its query string. */
  readonly pathname: string;
  /** Where the service is mounted, e.g. `/echo`. */
  readonly prefix: string;
  readonly headers: Readonly<ConnectionHeaders>;
  readonly cookies: Readonly<Record<string, string | undefined>>;
  readonly query: Readonly<Record<string, string>>;
  /** Bytes written but not yet handed to the network (shared by every wrapper of one connection). */
  readonly bufferedAmount: number;
}

const REQUEST_DETAILS = [
  'protocol', 'ip', 'ips', 'remoteAddress', 'remotePort', 'url', 'pathname', 'prefix', 'headers', 'cookies', 'query', 'bufferedAmount',
] as const satisfies readonly (keyof RequestDetails)[];

/**
 * Gives a wrapper class the RequestDetails getters, each reading `this.connection`. Pair it with
 * `interface Wrapper extends RequestDetails {}` so the types see them.
 */
export function forwardRequestDetails(wrapper: abstract new (...args: never[]) => { readonly connection: RequestDetails }): void {
  for (const key of REQUEST_DETAILS) {
    Object.defineProperty(wrapper.prototype, key, {
      configurable: true,
      get(this: { readonly connection: RequestDetails }) {
        return this.connection[key];
      },
    });
  }
}

// randomUUID() builds its result by joining 20 pieces, which V8 keeps as a tree of 14 string
// nodes (about 450 bytes for as long as the connection lives); read back from bytes it is one flat
// 36-character string.
function newId(): string {
  return Buffer.from(randomUUID(), 'latin1').toString('latin1');
}

/**
 * `Locals` types `locals`, e.g. `Connection<{ user: User }>`, as given to `sockjs<Locals>()`;
 * nothing checks it at run time: it is what your middleware puts in `res.locals`.
 */
export class Connection<Locals extends object = Record<string, unknown>> extends EventEmitter<ConnectionEvents> {
  /** A random id for this connection (never the session id from the URL, which the protocol keeps private). */
  readonly id: string = newId();
  /** The transport that opened the session. */
  readonly protocol: TransportName;
  /**
   * The client's address, as Express's `req.ip` gives it for the request that opened the session
   * (its websocket handshake included): with the app's `trust proxy` setting, the address the
   * trusted proxies report; without it (or outside Express), the TCP peer's.
   */
  readonly ip: string | undefined;
  /** Express's `req.ips`: with `trust proxy`, the X-Forwarded-For addresses from the client's to the first trusted proxy's; else empty. */
  readonly ips: readonly string[];
  /** The TCP peer's address: behind a proxy, the proxy's (use `ip`). */
  readonly remoteAddress: string | undefined;
  readonly remotePort: number | undefined;
  /** The opening request's URL as the server received it (mount path included). */
  readonly url: string;
  /** Where the service is mounted, e.g. `/echo`. */
  readonly prefix: string;
  readonly headers: Readonly<ConnectionHeaders>;
  /**
   * A shallow copy of Express's `res.locals` from the opening request (its websocket handshake
   * included): how middleware in front of the router hands results, such as the authenticated
   * user, to the connection.
   */
  readonly locals: Readonly<Locals>;
  /** @internal The object relaying this connection's events (sockjs-express/compat's), which its shared listeners find here. */
  wrapper: object | null = null;
  readonly #session: ConnectionSession;
  /** @internal Where room sends go: the session, or a recoverable connection's carrier while it needs nothing of the link (link.ts route()). */
  outlet: Outlet;
  readonly #cookieHeader: string | undefined;
  #cookies: Record<string, string | undefined> | undefined;
  #query: Record<string, string> | undefined;

  /** @internal Created by the service when a session opens. */
  constructor(session: ConnectionSession, req: IncomingMessage, protocol: TransportName, prefix: string, locals: Record<string, unknown> | undefined) {
    super();
    this.#session = session;
    this.outlet = session;
    this.protocol = protocol;
    const socket = req.socket;
    this.remoteAddress = socket.remoteAddress;
    this.remotePort = socket.remotePort;
    const addr = req as IncomingMessage & ExpressAddress;
    this.ip = typeof addr.ip === 'string' ? addr.ip : socket.remoteAddress;
    const ips = addr.ips;
    this.ips = Array.isArray(ips) && ips.length > 0 ? Object.freeze(ips.filter((x): x is string => typeof x === 'string')) : NO_IPS;
    const url = (req as IncomingMessage & { originalUrl?: string }).originalUrl ?? req.url ?? '/';
    this.url = url;
    this.prefix = prefix;
    this.headers = pickHeaders(req);
    this.locals = (locals === undefined || Object.keys(locals).length === 0 ? NO_LOCALS : Object.freeze({ ...locals })) as Readonly<Locals>;
    const cookie = req.headers.cookie;
    this.#cookieHeader = cookie;
  }

  /** 0 connecting, 1 open, 2 closing, 3 closed (as WebSocket). */
  get readyState(): ReadyState {
    return this.#session.state;
  }

  /** Characters written and not yet handed to the network, plus the socket's own buffer. */
  get bufferedAmount(): number {
    return this.#session.bufferedAmount;
  }

  /** Cookies of the opening request. */
  get cookies(): Readonly<Record<string, string | undefined>> {
    if (this.#cookies === undefined) {
      this.#cookies = this.#cookieHeader === undefined ? {} : parseCookie(this.#cookieHeader);
    }
    return this.#cookies;
  }

  /** `url` without its query string (derived when asked: a field would cost every connection). */
  get pathname(): string {
    const q = this.url.indexOf('?');
    return q === -1 ? this.url : this.url.slice(0, q);
  }

  /** Query parameters of the opening request (last value wins for repeated names). */
  get query(): Readonly<Record<string, string>> {
    if (this.#query === undefined) {
      const q = this.url.indexOf('?');
      this.#query = Object.fromEntries(new URLSearchParams(q === -1 ? '' : this.url.slice(q + 1)));
    }
    return this.#query;
  }

  /**
   * Sends one message. Strings go as they are; Buffers and typed arrays are decoded as UTF-8;
   * numbers and booleans are converted with String(). Returns false when the session is not open,
   * or when the buffered bytes passed the high-water mark: wait for 'drain' before writing more.
   */
  write(message: string | Uint8Array | ArrayBuffer | number | boolean): boolean {
    return this.#session.write(toText(message));
  }

  /** Closes the session; the client receives `c[code,"reason"]`. */
  close(code = 3000, reason = 'Go away!'): boolean {
    if (!Number.isInteger(code) || code < 1000 || code > 4999) {
      throw new RangeError(`sockjs-express: close code must be an integer from 1000 to 4999 (got ${String(code)})`);
    }
    if (typeof reason !== 'string') {
      throw new TypeError(`sockjs-express: close reason must be a string (got ${typeof reason})`);
    }
    return this.#session.close(code, reason);
  }


  /** Joins a named group; `router.to(room).send()` reaches every member (on every process, with an adapter). */
  join(room: string): this {
    const name = checkRoom(room);
    // A closed connection has left every room for good.
    if (this.#session.state === 1) {
      this.#session.host.rooms.join(this, name);
      this.#session.roomsChanged?.();
    }
    return this;
  }

  leave(room: string): this {
    this.#session.host.rooms.leave(this, checkRoom(room));
    this.#session.roomsChanged?.();
    return this;
  }

  /** The rooms this connection is in. */
  get rooms(): ReadonlySet<string> {
    return this.#session.host.rooms.roomsOf(this);
  }

  /** Closes the session with the default code and reason (3000, "Go away!"). */
  end(): boolean {
    return this.#session.close(3000, 'Go away!');
  }

  /** @internal */
  get session(): ConnectionSession {
    return this.#session;
  }

  override toString(): string {
    return `<SockJSConnection ${this.id} ${this.protocol}>`;
  }
}

function checkRoom(room: unknown): string {
  if (typeof room !== 'string' || room.length === 0 || room.length > 256) {
    throw new TypeError(`sockjs-express: a room name must be a string of 1 to 256 characters (got ${typeof room === 'string' ? room.length + ' characters' : typeof room})`);
  }
  return room;
}

const utf8 = new TextDecoder();

/** @internal */
export function toText(message: unknown): string {
  if (typeof message === 'string') return message;
  if (message instanceof Uint8Array) return utf8.decode(message);
  if (message instanceof ArrayBuffer) return utf8.decode(new Uint8Array(message));
  if (typeof message === 'number' || typeof message === 'boolean') return String(message);
  throw new TypeError(
    `sockjs-express: write() takes a string, Buffer or number (got ${message === null ? 'null' : typeof message}); use JSON.stringify() to send objects`,
  );
}
