// A lean HTTP/1.1 keep-alive client for the polling load: one request at a time on one socket,
// requests as prepared bytes, responses parsed just enough (status, Content-Length or chunked
// body, Connection: close). node:http's client costs several times the server's own work per
// poll, so with it both servers measured the load generator as much as themselves.
import net from 'node:net';
import { HOST } from './util.mjs';

const CRLF = Buffer.from('\r\n');
const HEAD_END = Buffer.from('\r\n\r\n');
const EMPTY = Buffer.alloc(0);

/** The bytes of a request with a body (or none). */
export function requestBytes(port, method, path, body = null, contentType = 'text/plain;charset=UTF-8') {
  const length = body === null ? 0 : body.length;
  const type = body === null ? '' : `Content-Type: ${contentType}\r\n`;
  const head = Buffer.from(`${method} ${path} HTTP/1.1\r\nHost: ${HOST}:${port}\r\n${type}Content-Length: ${length}\r\n\r\n`, 'latin1');
  return body === null ? head : Buffer.concat([head, body]);
}

/**
 * One complete response at the start of `buf`, or null while more bytes are needed.
 * Returns { status, body, close }.
 */
function parseResponse(buf) {
  const end = buf.indexOf(HEAD_END);
  if (end === -1) return null;
  const head = buf.toString('latin1', 0, end).toLowerCase();
  const status = Number(head.slice(9, 12));
  const close = /\r\nconnection: *close/.test(head);
  const start = end + 4;
  const length = /\r\ncontent-length: *(\d+)/.exec(head);
  if (length !== null) {
    const n = Number(length[1]);
    if (buf.length < start + n) return null;
    return { status, body: buf.subarray(start, start + n), close };
  }
  if (/\r\ntransfer-encoding: *chunked/.test(head)) {
    const parts = [];
    let pos = start;
    for (;;) {
      const eol = buf.indexOf(CRLF, pos);
      if (eol === -1) return null;
      const size = parseInt(buf.toString('latin1', pos, eol), 16);
      if (!(size >= 0)) throw new Error(`bad chunk size in response: ${buf.toString('latin1', pos, eol)}`);
      // Data, then its CRLF; the last chunk (size 0) is followed by an empty trailer line.
      if (buf.length < eol + 2 + size + 2) return null;
      if (size === 0) return { status, body: parts.length === 1 ? parts[0] : Buffer.concat(parts), close };
      parts.push(buf.subarray(eol + 2, eol + 2 + size));
      pos = eol + 2 + size + 2;
    }
  }
  if (status === 204 || status === 304) return { status, body: EMPTY, close };
  throw new Error(`response with neither Content-Length nor chunked body (status ${status})`);
}

/** One keep-alive connection; reconnects when the server closed the last one. */
export class RawConnection {
  constructor(port) {
    this.port = port;
    this.sock = null;
    this.buf = null;
    this.cb = null;
  }

  /** Sends `bytes` (a whole request); `cb(err, status, body)` once its response is complete. */
  request(bytes, cb) {
    this.cb = cb;
    this.buf = null;
    if (this.sock === null) this._connect();
    this.sock.write(bytes);
  }

  close() {
    if (this.sock !== null) this.sock.destroy();
    this.sock = null;
  }

  _connect() {
    const sock = net.connect({ host: HOST, port: this.port, noDelay: true });
    sock.on('data', (chunk) => this._onData(chunk));
    sock.on('error', (err) => this._finish(err));
    sock.on('close', () => {
      if (this.sock !== sock) return;
      this.sock = null;
      this._finish(new Error('the server closed the connection before answering'));
    });
    this.sock = sock;
  }

  _onData(chunk) {
    this.buf = this.buf === null ? chunk : Buffer.concat([this.buf, chunk]);
    let res;
    try {
      res = parseResponse(this.buf);
    } catch (err) {
      this.close();
      this._finish(err);
      return;
    }
    if (res === null) return;
    this.buf = null;
    if (res.close) this.close();
    this._finish(null, res.status, res.body);
  }

  _finish(err, status, body) {
    const cb = this.cb;
    if (cb === null) return;
    this.cb = null;
    cb(err, status, body);
  }
}
