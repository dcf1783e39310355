/**
 * Small tools shared by the protocol tests: requests with an exact (unnormalised) path, a
 * delimiter-based reader over streaming responses, and a raw TCP connection
 * (the polling wait, waitUntil, lives in spec/support/wait.ts and is re-exported here).
 */
import http from 'node:http';
import net from 'node:net';
import { Buffer } from 'node:buffer';
import { Stream, type Reply, type RequestOptions } from '../support/client.js';
import type { SockJSRouter } from '../../lib/index.js';
import { before, after } from 'node:test';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { waitUntil } from '../support/wait.js';

export { waitUntil };

/** A content type with its spaces removed, so `a; b` and `a;b` compare equal. */
export function ctype(r: { headers: http.IncomingHttpHeaders }): string | undefined {
  const v = r.headers['content-type'];
  return v === undefined ? undefined : v.replace(/ /g, '');
}

/**
 * One request whose path goes on the wire exactly as written: `new URL()` (used when a URL string
 * is given to http.request) would fold `/./` and `//` segments away.
 */
export function requestPath(method: string, port: number, path: string, opts: RequestOptions = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method, headers: opts.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.setTimeout(opts.timeoutMs ?? 5000, () => req.destroy(new Error(`timeout: ${method} ${path}`)));
    req.on('error', reject);
    req.end(opts.body);
  });
}

/**
 * Starts a request that the server will hold open (a poll on a session that has nothing to send)
 * and resolves once the service has taken it as a receiver, judged by its connection counter.
 */
export async function heldRequest(router: SockJSRouter, method: string, url: string, opts: RequestOptions = {}): Promise<Reader> {
  const before = router.stats.dump().connections_total;
  const reader = new Reader(new Stream(method, url, opts));
  await waitUntil(() => router.stats.dump().connections_total > before, 'the server to hold ' + url);
  return reader;
}

/**
 * Reads a streaming response by content rather than by TCP chunk: frames may arrive split or
 * merged, so reads wait for a delimiter or a character count.
 */
export class Reader {
  private buf = '';
  private done = false;

  constructor(readonly stream: Stream) {
    // A stream destroyed before its response arrived rejects opened(); that is expected here.
    stream.opened().catch(() => {});
  }

  get status(): number {
    return this.stream.status;
  }

  get headers(): http.IncomingHttpHeaders {
    return this.stream.headers;
  }

  opened(): Promise<void> {
    return this.stream.opened();
  }

  private async fill(timeoutMs: number): Promise<boolean> {
    if (this.done) return false;
    const c = await this.stream.read(timeoutMs);
    if (c === null) {
      this.done = true;
      return false;
    }
    this.buf += c;
    return true;
  }

  /** Everything up to and including the next `delim`; throws if the response ends first. */
  async until(delim: string, timeoutMs = 3000): Promise<string> {
    for (;;) {
      const i = this.buf.indexOf(delim);
      if (i !== -1) {
        const out = this.buf.slice(0, i + delim.length);
        this.buf = this.buf.slice(i + delim.length);
        return out;
      }
      if (!(await this.fill(timeoutMs))) throw new Error(`response ended before ${JSON.stringify(delim)}; left: ${JSON.stringify(this.buf.slice(0, 200))}`);
    }
  }

  /** Resolves with whatever arrives before the response ends ('' when it ends cleanly). */
  async rest(timeoutMs = 3000): Promise<string> {
    while (await this.fill(timeoutMs));
    const out = this.buf;
    this.buf = '';
    return out;
  }

  close(): void {
    this.stream.close();
  }
}

export interface RawHead {
  version: string;
  status: number;
  headers: Record<string, string>;
}

/** A raw TCP connection that collects bytes and reads by delimiter or count. */
export class RawConn {
  readonly sock: net.Socket;
  private buf = Buffer.alloc(0);
  ended = false;
  private wake: (() => void) | null = null;

  constructor(port: number) {
    this.sock = net.connect(port, '127.0.0.1');
    this.sock.on('data', (c: Buffer) => {
      this.buf = Buffer.concat([this.buf, c]);
      this.poke();
    });
    const end = (): void => {
      this.ended = true;
      this.poke();
    };
    this.sock.on('end', end);
    this.sock.on('close', end);
    this.sock.on('error', end);
  }

  private poke(): void {
    const w = this.wake;
    this.wake = null;
    if (w) w();
  }

  private async wait(cond: () => boolean, what: string, timeoutMs: number): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (!cond()) {
      if (this.ended) throw new Error(`connection closed while waiting for ${what}; have ${JSON.stringify(this.buf.toString('latin1').slice(0, 300))}`);
      const left = until - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
  }

  write(data: string | Buffer): void {
    this.sock.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
  }

  /** The next `n` bytes. */
  async bytes(n: number, timeoutMs = 3000): Promise<Buffer> {
    await this.wait(() => this.buf.length >= n, `${n} bytes`, timeoutMs);
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    return Buffer.from(out);
  }

  /** Everything up to and including `delim`, as latin1 text. */
  async until(delim: string, timeoutMs = 3000): Promise<string> {
    const d = Buffer.from(delim, 'latin1');
    await this.wait(() => this.buf.indexOf(d) !== -1, JSON.stringify(delim), timeoutMs);
    const i = this.buf.indexOf(d) + d.length;
    const out = this.buf.subarray(0, i).toString('latin1');
    this.buf = this.buf.subarray(i);
    return out;
  }

  /** A response's status line and headers (names lowercased). */
  async head(timeoutMs = 3000): Promise<RawHead> {
    const text = await this.until('\r\n\r\n', timeoutMs);
    const lines = text.slice(0, -4).split('\r\n');
    const m = /^HTTP\/(\d\.\d) (\d{3})/.exec(lines[0]!);
    if (m === null) throw new Error('not an HTTP status line: ' + JSON.stringify(lines[0]));
    const headers: Record<string, string> = {};
    for (const line of lines.slice(1)) {
      const i = line.indexOf(':');
      headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
    }
    return { version: m[1]!, status: Number(m[2]), headers };
  }

  /** One chunk of a chunked body ('' for the terminating chunk). */
  async chunk(timeoutMs = 3000): Promise<string> {
    const sizeLine = await this.until('\r\n', timeoutMs);
    const size = parseInt(sizeLine, 16);
    if (Number.isNaN(size)) throw new Error('bad chunk size line ' + JSON.stringify(sizeLine));
    const data = await this.bytes(size + 2, timeoutMs);
    if (data.subarray(size).toString('latin1') !== '\r\n') throw new Error('chunk not terminated by CRLF');
    return data.subarray(0, size).toString('utf8');
  }

  /** Resolves true once the server has closed the connection with nothing more sent. */
  async closedByServer(timeoutMs = 3000): Promise<boolean> {
    try {
      await this.wait(() => this.ended, 'the server to close', timeoutMs);
    } catch {
      return false;
    }
    return this.buf.length === 0;
  }

  leftover(): string {
    return this.buf.toString('latin1');
  }

  destroy(): void {
    this.sock.destroy();
  }
}

/**
 * Stops the test server. Sessions still open without a receiver would otherwise keep the shutdown
 * waiting for disconnect_delay for their clients to return; closing them first ends that wait.
 */
/**
 * The test server of a test file: started before its tests, stopped after them, its fields
 * filled in once it listens.
 */
export function serverForFile(): TestServer {
  const srv = {} as TestServer;
  before(async () => {
    Object.assign(srv, await startTestServer());
  });
  after(async () => {
    await stopServer(srv);
  });
  return srv;
}

/** The 2 KiB of `h` a streaming response starts with (for old browsers' buffering), and its newline. */
export const PRELUDE = 'h'.repeat(2048) + '\n';

export async function stopServer(srv: TestServer): Promise<void> {
  for (const r of Object.values(srv.services)) for (const c of [...r.connections]) c.close();
  await srv.close();
}
