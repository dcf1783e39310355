/**
 * The connection sockjs-node hands to 'connection' listeners: a Duplex stream (so `conn.pipe(x)`
 * and `x.pipe(conn)` work, as in sockjs-node 0.4) that also keeps sockjs-node 0.3's EventEmitter
 * habits: 'data' per message, write() that never throws on a closed connection, close(code, reason).
 */
import { Duplex } from 'node:stream';
import { forwardRequestDetails, type Connection, type RequestDetails } from '../connection.js';

const utf8 = new TextDecoder();

// sockjs-node sends `'' + value`; Buffers and typed arrays are their UTF-8 text.
function textOf(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value instanceof Uint8Array) return utf8.decode(value);
  if (value instanceof ArrayBuffer) return utf8.decode(new Uint8Array(value));
  return String(value);
}

type WriteCallback = (error?: Error | null) => void;

// The opening request's details (protocol, url, headers, cookies, ...) read through to `connection`.
export interface SockJSConnection extends RequestDetails {}

export class SockJSConnection extends Duplex {
  /** The sockjs-express Connection underneath (rooms, cookies, query, stats...). */
  readonly connection: Connection;
  // The last write's answer from the session: false means wait for 'drain'.
  #lastOk = true;
  #owesDrain = false;

  /** @internal Created by the compat server for each new session. */
  constructor(connection: Connection) {
    // Object mode on the readable side keeps message boundaries (and empty messages) intact.
    super({ readableObjectMode: true, writableObjectMode: true, decodeStrings: false, emitClose: false, allowHalfOpen: false });
    this.connection = connection;
    // Shared listeners that find this object through the connection: no closures per session.
    connection.wrapper = this;
    connection.on('data', SockJSConnection.#relayData);
    connection.on('drain', SockJSConnection.#relayDrain);
    connection.on('close', SockJSConnection.#relayClose);
  }

  static #relayData(this: Connection, message: string): void {
    const self = this.wrapper as SockJSConnection;
    const flowing = self.readableFlowing;
    // Never read (no 'data' listener, no pipe, no async iterator): drop, as sockjs-node 0.3's
    // EventEmitter did, rather than buffer a message per client forever.
    if (flowing === null) return;
    // Flowing with nothing buffered, push() would emit 'data' at once; emitting it here skips the
    // stream's per-chunk bookkeeping (and the tick it schedules). Anything else queues in order.
    if (flowing && self.readableLength === 0 && !self.destroyed) self.emit('data', message);
    else self.push(message);
  }

  static #relayDrain(this: Connection): void {
    const self = this.wrapper as SockJSConnection;
    if (!self.#owesDrain) return;
    self.#owesDrain = false;
    self.emit('drain');
  }

  static #relayClose(this: Connection, code: number, reason: string): void {
    const self = this.wrapper as SockJSConnection;
    self.push(null);
    if (!self.writableEnded && !self.destroyed) self.#endStream();
    self.emit('close', code, reason);
  }

  get id(): string {
    return this.connection.id;
  }

  /** 0 connecting, 1 open, 2 closing, 3 closed. */
  get readyState(): number {
    return this.connection.readyState;
  }

  /**
   * Sends one message. As in sockjs-node, a closed connection returns false instead of failing;
   * false on an open one means the session buffers too much: wait for 'drain'.
   */
  override write(chunk: unknown, encoding?: BufferEncoding | WriteCallback, cb?: WriteCallback): boolean {
    const callback = typeof encoding === 'function' ? encoding : cb;
    if (this.connection.readyState !== 1 || this.writableEnded || this.destroyed) {
      if (callback !== undefined) process.nextTick(callback, new Error('SockJS connection is not open'));
      return false;
    }
    if (callback === undefined && chunk !== null && this.writableLength === 0 && !this.writableCorked) {
      // Nothing waits in the stream and nobody waits for a callback: what Writable would do
      // (call _write at once) without its per-write bookkeeping and the tick it schedules.
      return this.#send(chunk);
    }
    const written = callback === undefined ? super.write(textOf(chunk)) : super.write(textOf(chunk), callback);
    return written && this.#lastOk;
  }

  // The stream's own end(): this class's end() closes the session, which is closed already.
  #endStream(): void {
    super.end();
  }

  #send(chunk: unknown): boolean {
    // Backpressure is the session's (write() returns false, 'drain' follows), not this stream's:
    // holding chunks here would bypass max_buffered_bytes.
    this.#lastOk = this.connection.write(textOf(chunk));
    if (!this.#lastOk && this.connection.readyState === 1) this.#owesDrain = true;
    return this.#lastOk;
  }

  /** Sends `chunk` if given, then closes (1000 "Normal closure", as sockjs-node). */
  override end(chunk?: unknown, encoding?: BufferEncoding | (() => void), cb?: () => void): this {
    let callback = cb;
    if (typeof chunk === 'function') {
      callback = chunk as () => void;
      chunk = undefined;
    } else if (typeof encoding === 'function') {
      callback = encoding;
    }
    if (chunk !== undefined && chunk !== null) this.write(chunk);
    this.close();
    if (callback !== undefined) {
      if (this.writableFinished || this.destroyed) process.nextTick(callback);
      else this.once('finish', callback);
    }
    return this;
  }

  /** Closes the session; the client receives `c[code,"reason"]`. */
  close(code = 1000, reason = 'Normal closure'): boolean {
    return this.connection.close(code, reason);
  }

  override _write(chunk: unknown, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.#send(chunk);
    callback();
  }

  override _read(): void {}

  override _final(callback: (error?: Error | null) => void): void {
    this.connection.close(1000, 'Normal closure');
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.connection.close(1000, 'Normal closure');
    callback(error);
  }

  override toString(): string {
    return `<SockJSConnection ${this.connection.id}>`;
  }
}

export interface SockJSConnection {
  on(event: 'data', listener: (message: string) => void): this;
  on(event: 'close', listener: (code: number, reason: string) => void): this;
  on(event: 'drain' | 'end' | 'finish', listener: () => void): this;
  on(event: 'error', listener: (err: Error) => void): this;
  on(event: string | symbol, listener: (...args: never[]) => void): this;
  once(event: 'data', listener: (message: string) => void): this;
  once(event: 'close', listener: (code: number, reason: string) => void): this;
  once(event: 'drain' | 'end' | 'finish', listener: () => void): this;
  once(event: 'error', listener: (err: Error) => void): this;
  once(event: string | symbol, listener: (...args: never[]) => void): this;
}

forwardRequestDetails(SockJSConnection);
