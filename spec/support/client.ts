/**
 * Hand-made SockJS clients for tests: plain HTTP requests, streaming responses read chunk by
 * chunk, and websockets, all over real sockets on 127.0.0.1.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import { Inbox } from './inbox.js';

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface RequestOptions {
  headers?: Record<string, string>;
  body?: string | Buffer;
  timeoutMs?: number;
}

const agent = new http.Agent({ keepAlive: false });

/** One HTTP request, whole body read. */
export function request(method: string, url: string, opts: RequestOptions = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers: opts.headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.setTimeout(opts.timeoutMs ?? 5000, () => req.destroy(new Error(`timeout: ${method} ${url}`)));
    req.on('error', reject);
    req.end(opts.body);
  });
}

export const GET = (url: string, opts?: RequestOptions): Promise<Reply> => request('GET', url, opts);
export const POST = (url: string, opts?: RequestOptions): Promise<Reply> => request('POST', url, opts);
export const OPTIONS = (url: string, opts?: RequestOptions): Promise<Reply> => request('OPTIONS', url, opts);

/** A session URL with a fresh session id: `<base>/000/<uuid>`. */
export function sessionUrl(base: string, server = '000'): string {
  return `${base}/${server}/${randomUUID()}`;
}

/**
 * A streaming response read chunk by chunk. `read()` resolves with the next chunk as written by
 * the server (data events), or null at the end of the response.
 */
export class Stream {
  status = 0;
  headers: http.IncomingHttpHeaders = {};
  private readonly chunks = new Inbox<string | null>();
  private req: http.ClientRequest;
  private ready: Promise<void>;

  constructor(method: string, url: string, opts: RequestOptions = {}) {
    this.req = http.request(url, { method, headers: opts.headers, agent });
    this.ready = new Promise((resolve, reject) => {
      this.req.on('response', (res) => {
        this.status = res.statusCode!;
        this.headers = res.headers;
        res.setEncoding('utf8');
        res.on('data', (c: string) => this.chunks.push(c));
        res.on('end', () => this.chunks.push(null));
        res.on('error', () => this.chunks.push(null));
        resolve();
      });
      this.req.on('error', (e) => {
        this.chunks.push(null);
        reject(e);
      });
    });
    this.req.end(opts.body);
  }

  /** Resolves once status and headers arrived. */
  opened(): Promise<void> {
    return this.ready;
  }

  read(timeoutMs = 10_000): Promise<string | null> {
    return this.chunks.next(timeoutMs, () => new Error('stream read timed out'));
  }

  /** Reads until `n` characters arrived (frames may be split or merged by TCP). */
  async readChars(n: number, timeoutMs = 10_000): Promise<string> {
    let out = '';
    while (out.length < n) {
      const c = await this.read(timeoutMs);
      if (c === null) break;
      out += c;
    }
    return out;
  }

  close(): void {
    this.req.destroy();
  }
}

/** A websocket with an inbox: `next()` resolves with the next text message, or null on close. */
export class WsClient {
  readonly ws: WebSocket;
  closeCode: number | null = null;
  closeReason = '';
  private readonly inbox = new Inbox<string | null>();
  readonly opened: Promise<void>;
  readonly closed: Promise<void>;

  constructor(url: string, opts?: WebSocket.ClientOptions) {
    this.ws = new WebSocket(url, opts);
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('error', reject);
      this.ws.once('unexpected-response', (_req, res) => reject(new Error('unexpected response ' + res.statusCode)));
    });
    this.closed = new Promise((resolve) => {
      this.ws.on('close', (code, reason) => {
        this.closeCode = code;
        this.closeReason = reason.toString();
        this.inbox.push(null);
        resolve();
      });
    });
    this.ws.on('error', () => {});
    this.ws.on('message', (d) => this.inbox.push(d.toString()));
  }

  next(timeoutMs = 10_000): Promise<string | null> {
    return this.inbox.next(timeoutMs, () => new Error('websocket message timed out'));
  }

  send(data: string): void {
    this.ws.send(data);
  }

  close(): void {
    this.ws.close();
  }
}

/** A raw TCP exchange: writes `text`, resolves with everything read until the server closes or `ms` pass. */
export function rawExchange(port: number, text: string | Buffer, ms = 1000): Promise<string> {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1');
    let out = '';
    sock.setEncoding('latin1');
    sock.on('data', (d: string) => (out += d));
    const done = (): void => {
      clearTimeout(t);
      sock.destroy();
      resolve(out);
    };
    const t = setTimeout(done, ms);
    sock.on('close', done);
    sock.on('error', done);
    sock.write(text);
  });
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** An echo service's xhr round trip and websocket round trip, against its base URL. */
export async function roundTrips(base: string): Promise<void> {
  const s = sessionUrl(base);
  assert.equal((await POST(s + '/xhr')).body, 'o\n');
  assert.equal((await POST(s + '/xhr_send', { body: '["via xhr"]' })).status, 204);
  assert.equal((await POST(s + '/xhr')).body, 'a["via xhr"]\n');
  const ws = new WsClient(sessionUrl(base.replace('http', 'ws')) + '/websocket');
  assert.equal(await ws.next(), 'o');
  ws.send('["via ws"]');
  assert.equal(await ws.next(), 'a["via ws"]');
  ws.close();
}
