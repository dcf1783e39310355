/**
 * The legacy hixie-76 websocket protocol (draft-hixie-thewebsocketprotocol-76, a.k.a. hybi-00) on a
 * raw socket. `ws` speaks RFC 6455 only; this exists for pre-2011 clients and for the SockJS
 * protocol suite's haproxy test, where key3 arrives only after the client has seen the 101 headers.
 */
import { EventEmitter } from 'node:events';
import { createHash } from 'node:crypto';
import { isUtf8 } from 'node:buffer';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';

const CONNECTING = 0, OPEN = 1, CLOSING = 2, CLOSED = 3;
// How long a graceful close waits for the peer's FIN before destroying the socket.
const CLOSE_TIMEOUT_MS = 5000;
// How long the 8 bytes of key3 may take after the 101: the socket is out of Node's HTTP timeouts
// by then and no session exists yet to count it, so without a limit a client could hold sockets
// open for free. Through a proxy key3 follows one round trip after the 101.
const KEY3_TIMEOUT_MS = 10_000;
const CLOSE_FRAME = Buffer.from([0xff, 0x00]);

export function isHixie76Request(req: IncomingMessage): boolean {
  const h = req.headers;
  return typeof h['sec-websocket-key1'] === 'string' && typeof h['sec-websocket-key2'] === 'string' && h['sec-websocket-key'] === undefined;
}

/** The 32-bit number a key encodes: its digits read as one number, divided by its space count. */
function keyNumber(key: string): number | null {
  const spaces = key.split(' ').length - 1;
  // Number() rounds correctly, so any digit run above 2^32-1 still compares above it; '' is 0.
  const num = Number(key.replace(/[^0-9]/g, ''));
  if (spaces === 0 || num > 0xffffffff || num % spaces !== 0) return null;
  return num / spaces;
}

type ParseState = 'type' | 'length' | 'skip' | 'text';

export class Hixie76Socket extends EventEmitter {
  readyState: 0 | 1 | 2 | 3 = CONNECTING;
  /** The websocket transport's receiver, which its shared listeners reach through the socket. */
  recv: unknown = null;
  private readonly maxMessageSize: number;
  private readonly challenge = Buffer.alloc(16);
  // Bytes seen before key3 is complete; drained as soon as 8 bytes are in, so at most one chunk.
  private pending: Buffer[] = [];
  private pendingLen = 0;
  private state: ParseState = 'type';
  private frameType = 0;
  private frameLen = 0;
  private text: Buffer[] = [];
  private textLen = 0;
  // The key3 deadline, then the graceful close's.
  private timer: NodeJS.Timeout | null = null;

  constructor(req: IncomingMessage, private readonly socket: Duplex, head: Buffer, opts: { maxMessageSize?: number; key3TimeoutMs?: number } = {}) {
    super();
    this.maxMessageSize = opts.maxMessageSize ?? 1024 * 1024;
    // Resets and write-after-end errors are expected on long-lived sockets; they end in 'close'.
    socket.on('error', () => {});
    socket.on('close', () => this.finish());
    socket.on('end', () => {
      // Upgraded sockets of an http.Server are half-open capable: answer the peer's FIN ourselves.
      if (!socket.writableEnded) socket.end();
    });
    socket.on('drain', () => {
      if (this.readyState === OPEN) this.emit('drain');
    });
    socket.on('data', (chunk: Buffer) => this.onData(chunk));

    const n1 = keyNumber(String(req.headers['sec-websocket-key1']));
    const n2 = keyNumber(String(req.headers['sec-websocket-key2']));
    if (n1 === null || n2 === null) {
      this.reject('Invalid Sec-WebSocket-Key1 or Sec-WebSocket-Key2.');
      return;
    }
    this.challenge.writeUInt32BE(n1, 0);
    this.challenge.writeUInt32BE(n2, 4);

    const tls = (socket as { encrypted?: unknown }).encrypted === true;
    // Express rewrites req.url below a mount point; the location must be what the client asked for.
    const url = (req as { originalUrl?: string }).originalUrl ?? req.url ?? '/';
    const origin = req.headers.origin;
    // The headers go out now, before key3 arrives: proxies like haproxy forward the 8 key3 bytes
    // only once they have seen a 101, since they are not part of the HTTP request.
    socket.write(
      'HTTP/1.1 101 WebSocket Protocol Handshake\r\nUpgrade: WebSocket\r\nConnection: Upgrade\r\n' +
        (origin !== undefined ? `Sec-WebSocket-Origin: ${origin}\r\n` : '') +
        `Sec-WebSocket-Location: ${tls ? 'wss' : 'ws'}://${req.headers.host ?? ''}${url}\r\n\r\n`,
    );
    this.timer = setTimeout(() => this.socket.destroy(), opts.key3TimeoutMs ?? KEY3_TIMEOUT_MS);
    this.timer.unref();
    // Bytes that came with the request are parsed on the next tick, after the caller's 'open' listener.
    if (head.length > 0) process.nextTick(() => this.onData(head));
  }

  get bufferedAmount(): number {
    return this.socket.writableLength;
  }

  send(text: string, _options?: unknown, cb?: (err?: Error | null) => void): boolean {
    if (this.readyState !== OPEN) return false;
    // UTF-8 never contains 0xFF, so the terminator needs no escaping.
    const len = Buffer.byteLength(text);
    const frame = Buffer.allocUnsafe(len + 2);
    frame[0] = 0x00;
    frame.write(text, 1);
    frame[len + 1] = 0xff;
    return this.socket.write(frame, cb);
  }

  close(): void {
    if (this.readyState === CONNECTING) this.shutdown();
    else if (this.readyState === OPEN) this.shutdown(CLOSE_FRAME);
  }

  terminate(): void {
    if (this.readyState === CLOSED) return;
    this.readyState = CLOSING;
    this.socket.destroy();
  }

  private shutdown(last?: Buffer | string): void {
    this.readyState = CLOSING;
    if (last !== undefined) this.socket.end(last);
    else this.socket.end();
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.socket.destroy(), CLOSE_TIMEOUT_MS);
    this.timer.unref();
  }

  private reject(why: string): void {
    const body = why + '\n';
    this.shutdown(
      'HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=UTF-8\r\nConnection: close\r\n' +
        `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
    this.socket.once('finish', () => this.socket.destroy());
  }

  private finish(): void {
    if (this.readyState === CLOSED) return;
    this.readyState = CLOSED;
    if (this.timer !== null) clearTimeout(this.timer);
    this.emit('close');
  }

  private onData(chunk: Buffer): void {
    if (this.readyState === OPEN) {
      this.parse(chunk);
      return;
    }
    if (this.readyState !== CONNECTING) return;
    this.pending.push(chunk);
    this.pendingLen += chunk.length;
    if (this.pendingLen < 8) return;
    const all = Buffer.concat(this.pending);
    this.pending = [];
    all.copy(this.challenge, 8, 0, 8);
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.socket.write(createHash('md5').update(this.challenge).digest());
    this.readyState = OPEN;
    this.emit('open');
    // Frames the client pipelined behind key3 are parsed only now, after 'open' listeners exist.
    if (all.length > 8) this.parse(all.subarray(8));
  }

  private tooBig(): void {
    const err = Object.assign(new Error('hixie-76 frame exceeds maxMessageSize'), { code: 'HIXIE76_MESSAGE_TOO_BIG' });
    // 'error' is informational (lets the owner close with its own reason first); never thrown.
    if (this.listenerCount('error') > 0) this.emit('error', err);
    this.close();
  }

  private parse(chunk: Buffer): void {
    let i = 0;
    // A 'message' listener may close us; stop reading at once if so.
    while (i < chunk.length && this.readyState === OPEN) {
      if (this.state === 'type') {
        this.frameType = chunk[i++]!;
        // High-bit types are length-prefixed (binary) frames; the rest run up to a 0xFF sentinel.
        this.state = this.frameType & 0x80 ? 'length' : 'text';
        this.frameLen = 0;
        this.textLen = 0;
      } else if (this.state === 'length') {
        const b = chunk[i++]!;
        this.frameLen = this.frameLen * 128 + (b & 0x7f);
        // The cap also keeps the 7-bit-group arithmetic from overflowing on endless continuations.
        if (this.frameLen > this.maxMessageSize) return this.tooBig();
        if (b & 0x80) continue;
        // 0xFF with length 0 is the closing handshake; we answer with the same two bytes.
        if (this.frameLen === 0 && this.frameType === 0xff) return this.close();
        this.state = this.frameLen === 0 ? 'type' : 'skip';
      } else if (this.state === 'skip') {
        const n = Math.min(this.frameLen, chunk.length - i);
        i += n;
        this.frameLen -= n;
        if (this.frameLen === 0) this.state = 'type';
      } else {
        const end = chunk.indexOf(0xff, i);
        const stop = end === -1 ? chunk.length : end;
        this.textLen += stop - i;
        if (this.textLen > this.maxMessageSize) return this.tooBig();
        // Only type 0x00 is text; other low types are framed alike but their data is discarded.
        // A partial frame is copied so it does not pin the whole socket read buffer.
        if (this.frameType === 0x00) this.text.push(end === -1 ? Buffer.from(chunk.subarray(i, stop)) : chunk.subarray(i, stop));
        if (end === -1) return;
        i = end + 1;
        this.state = 'type';
        if (this.frameType === 0x00) {
          const bytes = Buffer.concat(this.text);
          this.text = [];
          // hixie-76 has no close codes: text that is not UTF-8 ends the connection, as 1007 does
          // on RFC 6455 websockets, rather than reaching the application with U+FFFD in it.
          if (!isUtf8(bytes)) return this.close();
          this.emit('message', bytes.toString('utf8'));
        }
      }
    }
  }
}
