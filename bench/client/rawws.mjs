// The leanest websocket client the load generator has, for the handshake-bound scenarios (churn,
// reconnect storm), where `ws`'s client (an http.ClientRequest, key generation and hashing,
// checking the accept header per connection) cost as much CPU per session as the servers did: a
// prepared upgrade request on a bare TCP socket, the 101 taken on its status line, server frames
// parsed just enough (opcode and length; servers never mask), client frames masked with a fixed
// non-zero key as the protocol requires.
import net from 'node:net';
import { HOST, sessionPath } from './util.mjs';

const HEAD_END = Buffer.from('\r\n\r\n');
const KEY = [0x5a, 0x3c, 0x96, 0x0f];
const T_TEXT = 1;
const T_CLOSE = 8;
const T_PING = 9;

/** A client frame carrying `payload` (a Buffer) with `opcode`, masked with `key` (4 bytes). */
export function clientFrame(opcode, payload, key = KEY) {
  const n = payload.length;
  const ext = n < 126 ? 0 : n < 65536 ? 2 : 8;
  const frame = Buffer.allocUnsafe(2 + ext + 4 + n);
  frame[0] = 0x80 | opcode;
  if (ext === 0) frame[1] = 0x80 | n;
  else if (ext === 2) {
    frame[1] = 0x80 | 126;
    frame.writeUInt16BE(n, 2);
  } else {
    frame[1] = 0x80 | 127;
    frame.writeBigUInt64BE(BigInt(n), 2);
  }
  const at = 2 + ext;
  for (let i = 0; i < 4; i++) frame[at + i] = key[i];
  for (let i = 0; i < n; i++) frame[at + 4 + i] = payload[i] ^ key[i & 3];
  return frame;
}
const CLOSE_FRAME = clientFrame(T_CLOSE, Buffer.from([0x03, 0xe8])); // 1000
const textFrames = new Map();
/** The frame of a short text message, built once per distinct text. */
export function textFrame(text) {
  let f = textFrames.get(text);
  if (f === undefined) textFrames.set(text, (f = clientFrame(T_TEXT, Buffer.from(text))));
  return f;
}

/** The request path of a websocket session of each client flavour (see wsock.mjs). */
export function rawPath(kind, prefix) {
  if (kind === 'sio') return '/socket.io/?EIO=4&transport=websocket';
  if (kind === 'plain') return `/${prefix}`;
  if (kind === 'raw') return `/${prefix}/websocket`;
  return `/${prefix}/${sessionPath()}/websocket`;
}

/**
 * One websocket connection. `onText(text, conn)` gets each text message (as a latin1 string:
 * the bench's payloads are ASCII); `onOpen(conn)` the 101; `onEnd(err|null, conn)` the socket's
 * close, once. A server ping is answered; a server close frame is answered by ending the socket.
 */
export class RawWs {
  constructor(port, path, { onOpen = null, onText = null, onEnd = null } = {}) {
    this.onOpen = onOpen;
    this.onText = onText;
    this.onEnd = onEnd;
    this.upgraded = false;
    this.buf = null;
    this.error = null;
    this.ended = false;
    const sock = net.connect({ host: HOST, port, noDelay: true });
    this.sock = sock;
    sock.on('data', (chunk) => this._onData(chunk));
    sock.on('error', (err) => {
      if (this.error === null) this.error = err;
    });
    sock.on('close', () => this._end());
    sock.write(`GET ${path} HTTP/1.1\r\nHost: ${HOST}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n', 'latin1');
  }

  send(text) {
    if (!this.ended) this.sock.write(textFrame(text));
  }

  /** Starts the closing handshake: the server answers with its close frame and ends. */
  close() {
    if (!this.ended) this.sock.write(CLOSE_FRAME);
  }

  /** Drops the connection at once, as a client that goes away does. */
  destroy() {
    this.sock.destroy();
  }

  _end() {
    if (this.ended) return;
    this.ended = true;
    if (this.error === null && !this.upgraded) this.error = new Error('closed before the upgrade');
    if (this.onEnd !== null) this.onEnd(this.error, this);
  }

  _onData(chunk) {
    let buf = this.buf === null ? chunk : Buffer.concat([this.buf, chunk]);
    let pos = 0;
    if (!this.upgraded) {
      const end = buf.indexOf(HEAD_END);
      if (end === -1) {
        this.buf = buf;
        return;
      }
      if (buf.toString('latin1', 9, 12) !== '101') {
        this.error = new Error(`upgrade answered ${buf.toString('latin1', 0, Math.min(end, 200))}`);
        this.sock.destroy();
        return;
      }
      this.upgraded = true;
      pos = end + 4;
      if (this.onOpen !== null) this.onOpen(this);
    }
    while (buf.length - pos >= 2) {
      const opcode = buf[pos] & 0x0f;
      let n = buf[pos + 1] & 0x7f;
      let at = pos + 2;
      if (n === 126) {
        if (buf.length - pos < 4) break;
        n = buf.readUInt16BE(pos + 2);
        at += 2;
      } else if (n === 127) {
        if (buf.length - pos < 10) break;
        n = Number(buf.readBigUInt64BE(pos + 2));
        at += 8;
      }
      if (buf.length < at + n) break;
      pos = at + n;
      if (opcode === T_TEXT) {
        if (this.onText !== null) this.onText(buf.toString('latin1', at, at + n), this);
      } else if (opcode === T_CLOSE) {
        this.sock.end();
      } else if (opcode === T_PING) {
        this.sock.write(clientFrame(0xa, buf.subarray(at, at + n)));
      }
      if (this.ended) return;
    }
    this.buf = pos === buf.length ? null : buf.subarray(pos);
  }
}
