/**
 * A migration path from `ws`: a SockJS connection with the shape of a `ws` 8 WebSocket, and a
 * WebSocketServer-like emitter, so a handler written as `wss.on('connection', (ws, req) => ...)`
 * runs unchanged on SockJS:
 *
 *   // const wss = new WebSocketServer({ server });
 *   const wss = sockjsWebSocketServer(router);
 *
 * SockJS carries text only: `send()` of binary data sends its UTF-8 text, and messages arrive as
 * Buffers of UTF-8 text with isBinary false (what ws 8 delivers for text frames).
 */
import { EventEmitter } from 'node:events';
import type { Connection, ConnectionHeaders } from './connection.js';
import type { Channel, ChannelConnection, ConnectionLike, ConnectionSource } from './multiplex.js';
import type { SockJSRouter } from './router.js';

const STATE_NAMES = ['CONNECTING', 'OPEN', 'CLOSING', 'CLOSED'] as const;

export interface WebSocketLikeEvents {
  /** One message: its UTF-8 bytes; isBinary is always false (SockJS carries text). */
  message: [data: Buffer, isBinary: false];
  /** The connection ended, whoever closed it: code and reason as SockJS reports them. */
  close: [code: number, reason: Buffer];
  /** A message over the service's `max_message_size` (code `WS_ERR_UNSUPPORTED_MESSAGE_LENGTH`); 'close' (1009) follows. Emitted only when listened for. */
  error: [err: Error];
  /** The answer to ping(): SockJS keeps its own heartbeat, so an open session answers at once. */
  pong: [data: Buffer];
}

/** Data `send()` takes, as ws does; binary data goes as its UTF-8 text. */
export type WebSocketData = string | number | ArrayBuffer | ArrayBufferView;
export type SendCallback = (err?: Error) => void;
export interface SendOptions {
  /** Accepted for ws compatibility and ignored: every SockJS message is text. */
  binary?: boolean;
  mask?: boolean;
  compress?: boolean;
  fin?: boolean;
}

// RFC 6455 codes an endpoint may send, as ws checks them.
function validCloseCode(code: number): boolean {
  return (code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) || (code >= 3000 && code <= 4999);
}

function bytesOf(data: ArrayBuffer | ArrayBufferView): Buffer {
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data);
}

function textOf(data: unknown): string {
  if (typeof data === 'string') return data;
  if (typeof data === 'number') return String(data);
  if (data instanceof ArrayBuffer || ArrayBuffer.isView(data)) return bytesOf(data).toString('utf8');
  throw new TypeError(`sockjs-express: send() takes a string, number, Buffer, ArrayBuffer or typed array (got ${data === null ? 'null' : typeof data}); use JSON.stringify() to send objects`);
}

function notOpen(state: number): Error {
  return new Error(`WebSocket is not open: readyState ${state} (${STATE_NAMES[state] ?? 'UNKNOWN'})`);
}

/**
 * A SockJS connection (or channel connection) wearing the `ws` WebSocket API. Get one with
 * `wsAdapter(conn)`; the underlying connection stays reachable as `.connection`.
 */
export class SockJSWebSocket<C extends ConnectionLike = Connection> extends EventEmitter<WebSocketLikeEvents> {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSING = 2;
  static readonly CLOSED = 3;
  readonly CONNECTING = 0;
  readonly OPEN = 1;
  readonly CLOSING = 2;
  readonly CLOSED = 3;
  /** No subprotocol is negotiated over SockJS. */
  readonly protocol = '';
  readonly extensions = '';
  /** Messages are always delivered as Buffers. */
  readonly binaryType = 'nodebuffer';
  readonly connection: C;
  #paused: Buffer[] | null = null;

  /** @internal Use wsAdapter(conn). */
  constructor(connection: C) {
    super();
    this.connection = connection;
    connection.on('data', (message) => {
      const data = Buffer.from(message, 'utf8');
      if (this.#paused !== null) this.#paused.push(data);
      else this.emit('message', data, false);
    });
    connection.on('close', (code, reason) => {
      this.#paused = null;
      // ws reports an oversized message as an error before the 1009 close; nobody listening is no crash here.
      if (code === 1009 && this.listenerCount('error') > 0) {
        const err = Object.assign(new RangeError('Max payload size exceeded'), { code: 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' });
        this.emit('error', err);
      }
      this.emit('close', code, Buffer.from(reason, 'utf8'));
    });
  }

  /** 0 connecting, 1 open, 2 closing, 3 closed: the underlying connection's state. */
  get readyState(): 0 | 1 | 2 | 3 {
    const s = this.connection.readyState;
    return s === 0 || s === 1 || s === 2 ? s : 3;
  }

  /** Bytes written and not yet sent (the session's queue plus the socket's buffer). */
  get bufferedAmount(): number {
    return this.connection.bufferedAmount;
  }

  get isPaused(): boolean {
    return this.#paused !== null;
  }

  /** Sends one text message. On a closed connection the callback gets an error (nothing throws), as in ws. */
  send(data: WebSocketData, cb?: SendCallback): void;
  send(data: WebSocketData, options: SendOptions, cb?: SendCallback): void;
  send(data: WebSocketData, options?: SendOptions | SendCallback, cb?: SendCallback): void {
    if (typeof options === 'function') cb = options;
    const state = this.readyState;
    if (state === 0) throw notOpen(state);
    const text = textOf(data);
    if (state !== 1) {
      if (cb !== undefined) process.nextTick(cb, notOpen(state));
      return;
    }
    this.connection.write(text);
    if (cb !== undefined) process.nextTick(cb);
  }

  /**
   * Closes the connection; the client gets `code` and `reason` in the SockJS close frame. Codes
   * and reasons are checked as ws checks them (TypeError, RangeError).
   */
  close(code?: number, reason?: string | Buffer): void {
    const state = this.readyState;
    if (state >= 2) return;
    if (code !== undefined && (typeof code !== 'number' || !validCloseCode(code))) {
      throw new TypeError('First argument must be a valid error code number');
    }
    const text = reason === undefined ? '' : typeof reason === 'string' ? reason : Buffer.from(reason).toString('utf8');
    if (Buffer.byteLength(text) > 123) throw new RangeError('The message must not be greater than 123 bytes');
    this.connection.close(code ?? 1000, text);
  }

  /** Ends the connection at once; 'close' reports 1006 as ws does after terminate(). */
  terminate(): void {
    if (this.readyState >= 2) return;
    this.connection.close(1006, 'Connection terminated');
  }

  /**
   * SockJS has no ping frame and runs its own heartbeat; an open session answers with 'pong' on
   * the next tick, so ws-style liveness checks (ping, wait for pong, else terminate) keep working.
   */
  ping(data?: WebSocketData, _mask?: boolean, cb?: (err?: Error) => void): void {
    const state = this.readyState;
    if (state === 0) throw notOpen(state);
    if (state !== 1) {
      if (cb !== undefined) process.nextTick(cb, notOpen(state));
      return;
    }
    const payload = data === undefined ? Buffer.alloc(0) : Buffer.from(textOf(data), 'utf8');
    process.nextTick(() => {
      if (this.readyState === 1) this.emit('pong', payload);
      if (cb !== undefined) cb();
    });
  }

  /** Nothing to send over SockJS; the callback runs as ws would run it. */
  pong(_data?: WebSocketData, _mask?: boolean, cb?: (err?: Error) => void): void {
    const state = this.readyState;
    if (state === 0) throw notOpen(state);
    if (cb !== undefined) process.nextTick(cb, state === 1 ? undefined : notOpen(state));
  }

  /** Holds incoming messages until resume() (SockJS cannot slow the client down; they wait here). */
  pause(): void {
    if (this.readyState !== 1 || this.#paused !== null) return;
    this.#paused = [];
  }

  resume(): void {
    const queued = this.#paused;
    if (queued === null) return;
    this.#paused = null;
    for (let i = 0; i < queued.length; i++) {
      // A listener may pause again: keep the rest for the next resume().
      if (this.#paused !== null) {
        (this.#paused as Buffer[]).push(...queued.slice(i));
        return;
      }
      this.emit('message', queued[i]!, false);
    }
  }

  override toString(): string {
    return `<SockJSWebSocket ${this.connection.id}>`;
  }
}

const adapters = new WeakMap<object, SockJSWebSocket<ConnectionLike>>();

/** The ws-shaped view of a connection; the same object for the same connection. */
export function wsAdapter<C extends ConnectionLike>(conn: C): SockJSWebSocket<C> {
  if (conn === null || typeof conn !== 'object' || typeof conn.write !== 'function' || typeof conn.on !== 'function') {
    throw new TypeError('sockjs-express: wsAdapter(conn) takes a SockJS connection');
  }
  let ws = adapters.get(conn) as SockJSWebSocket<C> | undefined;
  if (ws === undefined) {
    ws = new SockJSWebSocket(conn);
    adapters.set(conn, ws as unknown as SockJSWebSocket<ConnectionLike>);
  }
  return ws;
}

/** The second argument of 'connection': what ws handlers usually read from the upgrade request. */
export interface UpgradeRequestLike {
  readonly method: 'GET';
  /** The URL of the request that opened the session (mount path included). */
  readonly url: string;
  /** The connection's headers: proxy and client identification, never cookies or authorization. */
  readonly headers: Readonly<ConnectionHeaders>;
  readonly socket: { readonly remoteAddress: string | undefined; readonly remotePort: number | undefined };
}

export interface WebSocketServerLikeEvents<C extends ConnectionLike = Connection> {
  connection: [ws: SockJSWebSocket<C>, req: UpgradeRequestLike];
  /** close() was called (open connections are not closed, as in ws 8). */
  close: [];
}

/** Emits ws-shaped sockets for the connections of a router (or of a channel, or a compat server). */
export class SockJSWebSocketServer<C extends ConnectionLike = Connection> extends EventEmitter<WebSocketServerLikeEvents<C>> {
  /** The open sockets, as ws's `wss.clients`. */
  readonly clients = new Set<SockJSWebSocket<C>>();
  #closed = false;

  constructor(source: ConnectionSource<C>) {
    super();
    if (source === null || (typeof source !== 'object' && typeof source !== 'function') || typeof source.on !== 'function') {
      throw new TypeError('sockjs-express: sockjsWebSocketServer(source) takes a router (or anything emitting \'connection\')');
    }
    source.on('connection', (conn) => {
      if (this.#closed) {
        conn.close(1001, 'Server is shutting down');
        return;
      }
      const ws = wsAdapter(conn);
      this.clients.add(ws);
      ws.once('close', () => this.clients.delete(ws));
      const req: UpgradeRequestLike = Object.freeze({
        method: 'GET',
        url: conn.url,
        headers: conn.headers,
        socket: Object.freeze({ remoteAddress: conn.remoteAddress, remotePort: conn.remotePort }),
      });
      this.emit('connection', ws, req);
    });
  }

  /**
   * Stops handing out new connections (they are closed with 1001); open ones stay open, as with
   * ws 8's wss.close(). Call router.close() to end those too.
   */
  close(cb?: (err?: Error) => void): void {
    if (this.#closed) {
      if (cb !== undefined) process.nextTick(cb, new Error('The server is not running'));
      return;
    }
    this.#closed = true;
    process.nextTick(() => {
      this.emit('close');
      if (cb !== undefined) cb();
    });
  }
}

/** Drop-in for `new WebSocketServer(...)`: `const wss = sockjsWebSocketServer(router)`. */
export function sockjsWebSocketServer(source: SockJSRouter): SockJSWebSocketServer<Connection>;
export function sockjsWebSocketServer<C extends ConnectionLike>(source: Channel<C>): SockJSWebSocketServer<ChannelConnection<C>>;
export function sockjsWebSocketServer<C extends ConnectionLike>(source: ConnectionSource<C>): SockJSWebSocketServer<C>;
export function sockjsWebSocketServer<C extends ConnectionLike>(source: ConnectionSource<C>): SockJSWebSocketServer<C> {
  return new SockJSWebSocketServer<C>(source);
}
