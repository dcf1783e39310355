// SockJS HTTP transports for the load generator: a streaming receiver (xhr_streaming or
// eventsource) that sends with xhr_send, on node:http with one keep-alive agent, and an
// xhr-polling session on the lean client of rawhttp.mjs.
import http from 'node:http';
import { RawConnection, requestBytes } from './rawhttp.mjs';
import { HOST, countMessages, sessionPath } from './util.mjs';

export const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity, maxFreeSockets: 100_000, noDelay: true });

const C_BRACKET = Buffer.from('c[');

/** One HTTP request; resolves with the status and the whole body. */
export function request(port, method, path, body = null) {
  return new Promise((resolve, reject) => {
    const headers = { 'Content-Length': body === null ? 0 : body.length };
    if (body !== null) headers['Content-Type'] = 'text/plain;charset=UTF-8';
    const req = http.request({ host: HOST, port, method, path, agent, headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, body: chunks.length === 1 ? chunks[0] : Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body === null ? undefined : body);
  });
}

/**
 * A session receiving on a long-lived stream (`xhr_streaming`: POST, 2048 'h' prelude, frames
 * each followed by '\n'; `eventsource`: GET, '\r\n' prelude, `data: <frame>\r\n\r\n`). When the
 * server ends the stream (response_limit reached) a new one is opened for the same session.
 */
export class StreamSession {
  constructor(port, prefix, transport, onMessages = null) {
    this.port = port;
    this.base = `/${prefix}/${sessionPath()}`;
    this.transport = transport;
    this.method = transport === 'eventsource' ? 'GET' : 'POST';
    this.marker = transport === 'eventsource' ? 'data: o\r\n' : '\no\n';
    this.onMessages = onMessages;
    this.opened = false;
    this.head = '';
    this.streams = 0;
    this.closeFrame = null;
    this.error = null;
    this.active = true;
    this.req = null;
    this.sending = false;
    this.queue = 0;
    this.sendBody = null;
    this.sends = 0;
    this.ready = new Promise((resolve, reject) => {
      this._resolve = resolve;
      this._reject = reject;
    });
    this.ready.catch(() => {});
    this._openStream();
  }

  _openStream() {
    this.streams++;
    const headers = this.method === 'POST' ? { 'Content-Length': 0 } : {};
    const req = http.request({ host: HOST, port: this.port, method: this.method, path: `${this.base}/${this.transport}`, agent, headers }, (res) => {
      if (res.statusCode !== 200) this._fail(new Error(`${this.transport} answered ${res.statusCode}`));
      res.on('data', (chunk) => this._onChunk(chunk));
      res.on('end', () => {
        this.req = null;
        if (this.active && this.closeFrame === null) this._openStream();
      });
    });
    req.on('error', (err) => {
      if (this.active) this._fail(err);
    });
    req.end();
    this.req = req;
  }

  _onChunk(chunk) {
    if (!this.opened) {
      this.head += chunk.toString('latin1');
      if (!this.head.includes(this.marker)) return;
      this.opened = true;
      this.head = '';
      this._resolve(this);
    }
    if (chunk.indexOf(C_BRACKET) !== -1) {
      this.closeFrame = chunk.toString('latin1', chunk.indexOf(C_BRACKET)).trim();
      this._fail(new Error(`session closed by the server: ${this.closeFrame}`));
      return;
    }
    const n = countMessages(chunk);
    if (n > 0 && this.onMessages !== null) this.onMessages(n, this);
  }

  _fail(err) {
    if (this.error === null) this.error = err;
    this._reject(err);
  }

  /**
   * Queues `n` messages; like sockjs-client, a session has one xhr_send in flight at a time and
   * each carries everything queued meanwhile (up to maxBatch messages).
   * `bodyFor(k)` gives the body of a k-message batch.
   */
  enqueue(n, bodyFor, maxBatch) {
    this.queue += n;
    if (!this.sending) this._send(bodyFor, maxBatch);
  }

  _send(bodyFor, maxBatch) {
    if (this.queue === 0 || !this.active) return;
    const k = Math.min(this.queue, maxBatch);
    this.queue -= k;
    this.sending = true;
    this.sends++;
    const body = bodyFor(k);
    const req = http.request(
      { host: HOST, port: this.port, method: 'POST', path: `${this.base}/xhr_send`, agent,
        headers: { 'Content-Type': 'text/plain;charset=UTF-8', 'Content-Length': body.length } },
      (res) => {
        if (res.statusCode !== 204 && res.statusCode !== 200) this._fail(new Error(`xhr_send answered ${res.statusCode}`));
        res.resume();
        res.on('end', () => {
          this.sending = false;
          this._send(bodyFor, maxBatch);
        });
      },
    );
    req.on('error', (err) => {
      if (this.active) this._fail(err);
    });
    req.end(body);
  }

  /** Stops reopening and drops the stream (the server sees the client go away). */
  stop() {
    this.active = false;
    if (this.req !== null) this.req.destroy();
  }
}

/**
 * An xhr-polling session: each round trip is a poll (`xhr`) and a send (`xhr_send`) in parallel,
 * each on its own keep-alive connection of the lean client (rawhttp.mjs).
 */
export class PollSession {
  constructor(port, prefix) {
    this.port = port;
    this.base = `/${prefix}/${sessionPath()}`;
    this.poller = new RawConnection(port);
    this.sender = new RawConnection(port);
    this.pollBytes = requestBytes(port, 'POST', `${this.base}/xhr`);
    this.sendBytes = null;
  }

  async open() {
    const { status, body } = await request(this.port, 'POST', `${this.base}/xhr`);
    if (status !== 200 || body.toString('latin1') !== 'o\n') throw new Error(`xhr open answered ${status} ${body.toString().slice(0, 80)}`);
    return this;
  }

  /**
   * Sends `sendBody` and polls for its echo; `cb(err, n)` with the number of messages the poll
   * carried once both answered.
   */
  roundTrip(sendBody, cb) {
    if (this.sendBytes === null) this.sendBytes = requestBytes(this.port, 'POST', `${this.base}/xhr_send`, sendBody);
    let pending = 2;
    let failed = null;
    let count = 0;
    const done = (err) => {
      if (err && failed === null) failed = err;
      if (--pending === 0) cb(failed, count);
    };
    this.poller.request(this.pollBytes, (err, status, body) => {
      if (err) return done(err);
      if (status !== 200) return done(new Error(`xhr poll answered ${status}`));
      if (body[0] === 0x63) return done(new Error(`session closed by the server: ${body.toString()}`));
      count = countMessages(body);
      done(null);
    });
    this.sender.request(this.sendBytes, (err, status) => {
      if (err) return done(err);
      if (status !== 204 && status !== 200) return done(new Error(`xhr_send answered ${status}`));
      done(null);
    });
  }

  close() {
    this.poller.close();
    this.sender.close();
  }
}
