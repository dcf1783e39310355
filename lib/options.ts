/**
 * Options: defaults and validation. Names are snake_case as in sockjs-node and sockjs-tornado,
 * so configurations carry over. Every bad value is a TypeError naming the option and what is allowed.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { LocalAdapter, type Adapter } from './adapter.js';
import { resolveRecovery, type RecoveryOptions } from './recovery/options.js';
import { resolveCompression, type CompressionOptions, type ResolvedCompression } from './compression.js';
import { unknownOption } from './unknown-option.js';

export type { RecoveryOptions };

/** Transport names as sockjs-client spells them, plus `websocket-raw` for the plain /websocket endpoint. */
export const TRANSPORT_NAMES = [
  'websocket',
  'websocket-raw',
  'xhr-streaming',
  'xhr-polling',
  'eventsource',
  'htmlfile',
  'jsonp-polling',
] as const;
export type TransportName = (typeof TRANSPORT_NAMES)[number];

export type LogSeverity = 'debug' | 'info' | 'warn' | 'error';
/** Context attached to a log line: which request, session and transport it is about. */
export interface LogFields {
  request_id?: string;
  session_id?: string;
  transport?: string;
  [key: string]: unknown;
}
export type LogFunction = (severity: LogSeverity, message: string, fields?: LogFields) => void;

/** Sets cookies on a transport response when the load balancer needs them (see `cookie_needed`). */
export type CookieHandler = (req: IncomingMessage, res: ServerResponse) => void;

export interface SockJSOptions {
  /** URL of the sockjs-client bundle that the iframe page loads. Default: the sockjs-client 1.x CDN bundle. */
  sockjs_url?: string;
  /** Bytes a streaming response may carry before the server ends it and the client opens a new one. Default 128 KiB. */
  response_limit?: number;
  /** Milliseconds of silence after which a heartbeat frame is sent. Default 25 000. */
  heartbeat_delay?: number;
  /** Milliseconds a websocket peer has to answer a ping (with anything at all) before its session ends with cause `timeout`; 0 disables the check. Default 10 000. */
  heartbeat_timeout?: number;
  /** Milliseconds a session waits for its next receiving request before it is closed; also how long a closed session keeps answering with its close frame. Default 5 000. */
  disconnect_delay?: number;
  /** `true` sets the JSESSIONID cookie (for sticky load balancers); a function sets whatever cookies it likes. Default false. */
  cookie_needed?: boolean | CookieHandler;
  /** Alias of `cookie_needed` (sockjs-node's name). */
  jsessionid?: boolean | CookieHandler;
  /** Transports this service refuses (404). Default none. */
  disabled_transports?: readonly TransportName[];
  /** Leave CORS headers out of every response (when something in front of the router sets them). Default false. */
  disable_cors?: boolean;
  /** Receives the service's log lines with their fields. Default: none, unless DEBUG=sockjs-express:* is set (then stderr). */
  log?: LogFunction;
  /** Also accept the legacy hixie-76 websocket handshake (pre-2011 browsers, the protocol suite's haproxy test). Default false. */
  hixie76?: boolean;
  /** Largest message a client may send: an xhr_send/jsonp_send body (413 beyond) or a websocket message (closed with 1009). Default 1 MiB. */
  max_message_size?: number;
  /** Longest session id, and `<server>` segment, accepted in a URL (404 beyond). Default 128. */
  max_session_id_length?: number;
  /** Sessions held at once, lingering closed ones included (503, or a refused handshake, beyond). Default 100 000. */
  max_sessions?: number;
  /** Bytes `conn.write()` may buffer before it returns false; 'drain' fires when they fall back below. Default 64 KiB. */
  high_water_mark?: number;
  /** Bytes a session may buffer for a client that does not read; beyond, it is closed with 3100 "Send buffer full". Default 4 MiB. */
  max_buffered_bytes?: number;
  /** Allowed browser origins: patterns like `https://example.com`, `https://*.example.com`, `*://localhost:*`, `example.com:*`, or a function. Default: every origin. */
  origins?: readonly string[] | OriginCheck;
  /** Runs once before a session opens, on any transport; false (or a rejected promise) refuses it with 403. */
  verify?: VerifyFunction;
  /** Carries broadcasts and room sends to other processes (e.g. the Redis adapter). Default: this process only. */
  adapter?: Adapter;
  /** permessage-deflate on websockets: true, or its settings. Default false. */
  compression?: boolean | CompressionOptions;
  /** Resumable connections for clients that ask for them (the companion client, docs/recovery.md): `true` for the defaults, or the limits. Default off. */
  recovery?: boolean | RecoveryOptions;
}


/** Decides whether a browser origin (the `Origin` header, or the Referer's origin) may connect. */
export type OriginCheck = (origin: string, req: IncomingMessage) => boolean;
/** The request `verify` gets: under Express, Express's request, whose `ip` and `ips` honour the app's `trust proxy`. */
export type VerifyRequest = IncomingMessage & { readonly ip?: string; readonly ips?: readonly string[] };
/** Decides whether a request may open a session. */
export type VerifyFunction = (req: VerifyRequest) => boolean | Promise<boolean>;

export interface ResolvedOptions {
  sockjs_url: string;
  response_limit: number;
  heartbeat_delay: number;
  heartbeat_timeout: number;
  disconnect_delay: number;
  cookie_needed: CookieHandler | null;
  disabled: ReadonlySet<TransportName>;
  disable_cors: boolean;
  /** The user's log function, or null (then DEBUG=sockjs-express:* decides). */
  log: LogFunction | null;
  hixie76: boolean;
  max_message_size: number;
  max_session_id_length: number;
  max_sessions: number;
  high_water_mark: number;
  max_buffered_bytes: number;
  /** null when every origin is allowed. */
  origins: OriginCheck | null;
  /** The `origins` field of /info: the configured patterns, or ["*:*"]. */
  origin_list: readonly string[];
  verify: VerifyFunction | null;
  adapter: Adapter;
  /** null when off. */
  compression: ResolvedCompression;
  /** null when recovery is off. */
  recovery: Required<RecoveryOptions> | null;
}

export const DEFAULT_SOCKJS_URL = 'https://cdn.jsdelivr.net/npm/sockjs-client@1/dist/sockjs.min.js';

const KNOWN = new Set<string>([
  'sockjs_url', 'response_limit', 'heartbeat_delay', 'heartbeat_timeout', 'disconnect_delay', 'cookie_needed',
  'jsessionid', 'disabled_transports', 'disable_cors', 'log', 'hixie76', 'max_message_size',
  'max_session_id_length', 'max_sessions', 'high_water_mark', 'max_buffered_bytes', 'origins', 'verify', 'adapter', 'compression',
  'recovery',
]);

function fail(name: string, allowed: string, value: unknown): never {
  const got = value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value === 'string' ? JSON.stringify(value) : typeof value === 'number' ? String(value) : typeof value;
  throw new TypeError(`sockjs-express: option "${name}" must be ${allowed} (got ${got})`);
}

function positiveInt(o: Record<string, unknown>, name: string, def: number, max = 2 ** 31 - 1): number {
  const v = o[name];
  if (v === undefined) return def;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > max) {
    fail(name, `an integer from 1 to ${max}`, v);
  }
  return v;
}

// The one integer option where 0 means something (no liveness check).
function heartbeatTimeout(o: Record<string, unknown>): number {
  const v = o.heartbeat_timeout;
  if (v === undefined) return 10_000;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 2 ** 31 - 1) {
    fail('heartbeat_timeout', `an integer from 0 to ${2 ** 31 - 1}`, v);
  }
  return v;
}

function bool(o: Record<string, unknown>, name: string): boolean {
  const v = o[name];
  if (v === undefined) return false;
  if (typeof v !== 'boolean') fail(name, 'true or false', v);
  return v;
}

function cookieHandler(o: Record<string, unknown>): CookieHandler | null {
  if (o.cookie_needed !== undefined && o.jsessionid !== undefined) {
    throw new TypeError('sockjs-express: give either "cookie_needed" or its alias "jsessionid", not both');
  }
  const name = o.jsessionid !== undefined ? 'jsessionid' : 'cookie_needed';
  const v = o[name];
  if (v === undefined || v === false) return null;
  if (v === true) return setJsessionid;
  if (typeof v === 'function') return v as CookieHandler;
  return fail(name, 'true, false or a function (req, res) => void', v);
}

/**
 * The default cookie handler: echo the client's JSESSIONID, or start one with "dummy" (the
 * protocol's value). Over HTTPS it is also `SameSite=None; Secure`, so browsers keep sending it
 * to a cross-site SockJS server (sticky load balancing depends on it).
 */
export function setJsessionid(req: IncomingMessage, res: ServerResponse): void {
  const header = req.headers.cookie;
  let value = 'dummy';
  if (header !== undefined) {
    const m = /(?:^|;)\s*JSESSIONID=([^;]*)/.exec(header);
    // Only a cookie-safe value is echoed, so a crafted cookie cannot inject attributes.
    if (m && /^[!#-+\--:<-[\]-~]{1,256}$/.test(m[1]!)) value = m[1]!;
  }
  const secure = (req.socket as { encrypted?: boolean }).encrypted === true || req.headers['x-forwarded-proto'] === 'https';
  res.setHeader('Set-Cookie', 'JSESSIONID=' + value + '; path=/' + (secure ? '; SameSite=None; Secure' : ''));
}


const DEFAULT_PORTS: Record<string, string> = { http: '80', https: '443', ws: '80', wss: '443' };

/** `scheme://host:port` of an origin, with the scheme's default port filled in; null if malformed. */
export function normalizeOrigin(origin: string): string | null {
  const m = /^([a-z][a-z0-9+.-]*):\/\/([^/:?#\s]+)(?::(\d{1,5}))?\/?$/i.exec(origin);
  if (m === null) return null;
  const scheme = m[1]!.toLowerCase();
  const port = m[3] ?? DEFAULT_PORTS[scheme] ?? '';
  return scheme + '://' + m[2]!.toLowerCase() + ':' + port;
}

function patternToRegExp(pattern: string): RegExp {
  let p = pattern.trim().toLowerCase();
  if (p === '*' || p === '*:*') return /^/;
  if (!p.includes('://')) p = '*://' + p;
  const m = /^([^:]+):\/\/([^/:]+)(?::([^/]+))?\/?$/.exec(p);
  if (m === null) throw new TypeError(`sockjs-express: option "origins" has a malformed pattern ${JSON.stringify(pattern)}; use forms like https://example.com, https://*.example.com:8443, *://localhost:*`);
  const [, scheme, host, port] = m as unknown as [string, string, string, string | undefined];
  const part = (s: string): string => s.split('*').map((x) => x.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('[^/:]*');
  const portRe = port !== undefined ? part(port) : scheme === '*' ? '(?:80|443)' : (DEFAULT_PORTS[scheme] ?? '');
  return new RegExp('^' + part(scheme) + ':\\/\\/' + part(host) + ':' + portRe + '$');
}

function originCheck(o: Record<string, unknown>): OriginCheck | null {
  const v = o.origins;
  if (v === undefined) return null;
  if (typeof v === 'function') return v as OriginCheck;
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) {
    fail('origins', 'an array of origin patterns or a function (origin, req) => boolean', v);
  }
  const list = v as string[];
  if (list.some((x) => x === '*' || x === '*:*')) return null;
  const exact = new Set(list.filter((x) => x === 'null'));
  const res = list.filter((x) => x !== 'null').map(patternToRegExp);
  return (origin: string) => {
    if (origin === 'null') return exact.has('null');
    const n = normalizeOrigin(origin);
    return n !== null && res.some((re) => re.test(n));
  };
}

export function resolveOptions(input: unknown): ResolvedOptions {
  if (input === undefined || input === null) input = {};
  if (typeof input !== 'object' || Array.isArray(input)) {
    throw new TypeError(`sockjs-express: options must be an object (got ${Array.isArray(input) ? 'an array' : typeof input})`);
  }
  const o = input as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (!KNOWN.has(key)) {
      throw unknownOption(key, KNOWN);
    }
  }
  const url = o.sockjs_url;
  if (url !== undefined && (typeof url !== 'string' || !/^(https?:\/\/|\/)/.test(url) || /["<>\s]/.test(url))) {
    fail('sockjs_url', 'an http(s):// or /absolute URL without quotes, spaces or angle brackets', url);
  }
  const dt = o.disabled_transports;
  const disabled = new Set<TransportName>();
  if (dt !== undefined) {
    if (!Array.isArray(dt)) fail('disabled_transports', `an array of ${TRANSPORT_NAMES.join(', ')}`, dt);
    for (const name of dt as unknown[]) {
      if (typeof name !== 'string' || !(TRANSPORT_NAMES as readonly string[]).includes(name)) {
        fail('disabled_transports', `an array of ${TRANSPORT_NAMES.join(', ')}`, name);
      }
      disabled.add(name as TransportName);
    }
  }
  if (o.log !== undefined && typeof o.log !== 'function') fail('log', 'a function (severity, message, fields) => void', o.log);
  if (o.verify !== undefined && typeof o.verify !== 'function') fail('verify', 'a function (req) => boolean | Promise<boolean>', o.verify);
  const origins = originCheck(o);
  const adapter = o.adapter;
  if (adapter !== undefined && (adapter === null || typeof adapter !== 'object' ||
    ['bind', 'publish', 'close'].some((m) => typeof (adapter as Record<string, unknown>)[m] !== 'function'))) {
    fail('adapter', 'an adapter object with bind(), publish() and close() (see docs/scaling.md)', adapter);
  }
  const highWater = positiveInt(o, 'high_water_mark', 64 * 1024);
  const maxBuffered = positiveInt(o, 'max_buffered_bytes', 4 * 1024 * 1024);
  if (maxBuffered < highWater) {
    throw new TypeError(`sockjs-express: option "max_buffered_bytes" (${maxBuffered}) must not be below "high_water_mark" (${highWater})`);
  }
  return {
    sockjs_url: (url as string | undefined) ?? DEFAULT_SOCKJS_URL,
    response_limit: positiveInt(o, 'response_limit', 128 * 1024),
    heartbeat_delay: positiveInt(o, 'heartbeat_delay', 25_000),
    heartbeat_timeout: heartbeatTimeout(o),
    disconnect_delay: positiveInt(o, 'disconnect_delay', 5_000),
    cookie_needed: cookieHandler(o),
    disabled,
    disable_cors: bool(o, 'disable_cors'),
    log: (o.log as LogFunction | undefined) ?? null,
    hixie76: bool(o, 'hixie76'),
    max_message_size: positiveInt(o, 'max_message_size', 1024 * 1024, 256 * 1024 * 1024),
    max_session_id_length: positiveInt(o, 'max_session_id_length', 128, 4096),
    max_sessions: positiveInt(o, 'max_sessions', 100_000),
    high_water_mark: highWater,
    max_buffered_bytes: maxBuffered,
    origins,
    origin_list: Array.isArray(o.origins) ? [...(o.origins as string[])] : ['*:*'],
    verify: (o.verify as VerifyFunction | undefined) ?? null,
    adapter: (adapter as Adapter | undefined) ?? new LocalAdapter(),
    compression: resolveCompression(o.compression, fail),
    recovery: resolveRecovery(o.recovery, fail, positiveInt),
  };
}
