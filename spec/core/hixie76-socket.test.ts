/** The legacy hixie-76 websocket handshake and framing, over raw TCP against an echo server. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { Hixie76Socket, isHixie76Request } from '../../lib/transports/hixie76.js';
import { waitUntil } from '../support/wait.js';

const KEY1 = '4 @1  46546xW%0l 1 5';
const KEY2 = '12998 5 Y3 1  .P00';
const ANSWER = Buffer.from('\xca4\x00\xd8\xa5\x08G\x97,\xd5qZ\xba\xbfC{', 'latin1');
const PATH = '/echo/000/8d9a1b0e-0000-4000-8000-000000000000/websocket';

interface Echo {
  port: number;
  closes: number;
  messages: string[];
  stop(): Promise<void>;
}

async function echoServer(opts: { maxMessageSize?: number; key3TimeoutMs?: number } = {}): Promise<Echo> {
  const server = http.createServer();
  const echo: Echo = { port: 0, closes: 0, messages: [], stop: async () => {} };
  server.on('upgrade', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
    if (!isHixie76Request(req)) return socket.destroy();
    const ws = new Hixie76Socket(req, socket, head, opts);
    ws.on('message', (m: string) => {
      echo.messages.push(m);
      ws.send(m);
    });
    ws.on('close', () => echo.closes++);
  });
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  echo.port = (server.address() as net.AddressInfo).port;
  echo.stop = async () => {
    server.closeAllConnections();
    await new Promise<void>((res) => server.close(() => res()));
  };
  return echo;
}

/** A raw client that collects every byte and can wait for more or for the server's FIN. */
class Raw {
  readonly sock: net.Socket;
  buf = Buffer.alloc(0);
  ended = false;
  private waiters: (() => void)[] = [];

  constructor(port: number) {
    this.sock = net.connect(port, '127.0.0.1');
    this.sock.on('data', (c: Buffer) => {
      this.buf = Buffer.concat([this.buf, c]);
      this.wake();
    });
    this.sock.on('end', () => {
      this.ended = true;
      this.wake();
    });
    this.sock.on('error', () => {});
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /** Resolves when `cond` holds, failing after 2 s. */
  until(cond: () => boolean, what: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('timed out waiting for ' + what)), 2000);
      const check = (): void => {
        if (cond()) {
          clearTimeout(timer);
          resolve();
        } else this.waiters.push(check);
      };
      check();
    });
  }

  /** Waits for the end of the HTTP headers and takes them off the buffer. */
  async headers(): Promise<string> {
    await this.until(() => this.buf.includes('\r\n\r\n'), 'response headers');
    const at = this.buf.indexOf('\r\n\r\n') + 4;
    const head = this.buf.subarray(0, at).toString('latin1');
    this.buf = this.buf.subarray(at);
    return head;
  }

  async take(n: number): Promise<Buffer> {
    await this.until(() => this.buf.length >= n, `${n} bytes`);
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    return out;
  }
}

function request(key1 = KEY1, key2 = KEY2): string {
  return (
    `GET ${PATH} HTTP/1.1\r\nHost: 127.0.0.1:8081\r\nConnection: Upgrade\r\nUpgrade: WebSocket\r\n` +
    `Origin: http://127.0.0.1:8081\r\nSec-WebSocket-Key1: ${key1}\r\nSec-WebSocket-Key2: ${key2}\r\n\r\n`
  );
}

const text = (s: string): Buffer => Buffer.concat([Buffer.from([0x00]), Buffer.from(s), Buffer.from([0xff])]);

/** Handshake with key3 sent after the 101 headers arrive (the haproxy order). */
async function open(port: number): Promise<Raw> {
  const c = new Raw(port);
  c.sock.write(request());
  await c.headers();
  c.sock.write('aaaaaaaa');
  assert.deepEqual(await c.take(16), ANSWER);
  return c;
}

test('hixie-76: 101 headers go out before key3 arrives, with origin and ws:// location, no Content-Length', async () => {
  const s = await echoServer();
  const c = new Raw(s.port);
  c.sock.write(request());
  const head = await c.headers();
  const [status, ...lines] = head.trim().split('\r\n');
  assert.equal(status, 'HTTP/1.1 101 WebSocket Protocol Handshake');
  const h = new Map(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
  assert.equal(h.get('upgrade'), 'WebSocket');
  assert.equal(h.get('connection'), 'Upgrade');
  assert.equal(h.get('sec-websocket-origin'), 'http://127.0.0.1:8081');
  assert.equal(h.get('sec-websocket-location'), 'ws://127.0.0.1:8081' + PATH);
  assert.ok(!h.has('content-length'));
  assert.equal(c.buf.length, 0, 'no challenge answer before key3');
  c.sock.write('aaaaaaaa');
  assert.deepEqual(await c.take(16), ANSWER, 'md5(be32(n1) + be32(n2) + key3)');
  c.sock.destroy();
  await s.stop();
});

test('hixie-76: key3 sent together with the request (in `head`) gets the same 16-byte answer', async () => {
  const s = await echoServer();
  const c = new Raw(s.port);
  c.sock.write(request() + 'aaaaaaaa');
  await c.headers();
  assert.deepEqual(await c.take(16), ANSWER);
  c.sock.destroy();
  await s.stop();
});

test('hixie-76: key3 split across two writes is reassembled, and a frame pipelined behind it is delivered after open', async () => {
  const s = await echoServer();
  const c = new Raw(s.port);
  c.sock.write(request() + 'aaa');
  await c.headers();
  // Bounded check that nothing happens: no answer within 30 ms.
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(c.buf.length, 0, 'no answer on 3 of 8 bytes');
  c.sock.write(Buffer.concat([Buffer.from('aaaaa'), text('early')]));
  assert.deepEqual(await c.take(16), ANSWER);
  assert.deepEqual(await c.take(7), text('early'));
  c.sock.destroy();
  await s.stop();
});

test('hixie-76: a text frame (0x00 .. 0xFF) of non-ASCII UTF-8 is echoed byte for byte, even when split mid-character', async () => {
  const s = await echoServer();
  const c = await open(s.port);
  const msg = 'zażółć gęślą jaźń ☃ 𝄞';
  const frame = text(msg);
  c.sock.write(frame.subarray(0, 5));
  await new Promise((r) => setTimeout(r, 20)); // pacing, so the halves arrive apart
  c.sock.write(frame.subarray(5));
  assert.deepEqual(await c.take(frame.length), frame);
  assert.deepEqual(s.messages, [msg]);
  c.sock.destroy();
  await s.stop();
});

test('hixie-76: closing handshake 0xFF 0x00 is answered with 0xFF 0x00, then the server ends and emits close once', async () => {
  const s = await echoServer();
  const c = await open(s.port);
  c.sock.write(Buffer.from([0xff, 0x00]));
  assert.deepEqual(await c.take(2), Buffer.from([0xff, 0x00]));
  await c.until(() => c.ended, 'server FIN');
  c.sock.end();
  await waitUntil(() => s.closes >= 1, "the server's 'close'");
  assert.equal(s.closes, 1);
  await s.stop();
});

test('hixie-76: a key without spaces is rejected with 400 and the socket closed', async () => {
  const s = await echoServer();
  const c = new Raw(s.port);
  c.sock.write(request('12345', KEY2));
  const head = await c.headers();
  assert.match(head, /^HTTP\/1\.1 400 Bad Request\r\n/);
  await c.until(() => c.ended, 'server FIN');
  assert.match(c.buf.toString(), /Sec-WebSocket-Key/);
  await s.stop();
});

test('hixie-76: keys whose number is not a multiple of the spaces, or above 2^32-1, are rejected with 400', async () => {
  const s = await echoServer();
  for (const key of ['1  3', ' 99999999999']) {
    const c = new Raw(s.port);
    c.sock.write(request(KEY1, key));
    assert.match(await c.headers(), /^HTTP\/1\.1 400 /, key);
    c.sock.destroy();
  }
  await s.stop();
});

test('hixie-76: a text frame over maxMessageSize closes the connection without delivering it', async () => {
  const s = await echoServer({ maxMessageSize: 100 });
  const c = await open(s.port);
  c.sock.write(Buffer.concat([Buffer.from([0x00]), Buffer.alloc(101, 'x')]));
  await c.until(() => c.ended, 'server FIN');
  assert.deepEqual(c.buf, Buffer.from([0xff, 0x00]));
  assert.deepEqual(s.messages, []);
  c.sock.destroy();
  await s.stop();
});

test('hixie-76: length-prefixed binary frames (type 0x80..0xFE) are skipped; an oversized length closes', async () => {
  const s = await echoServer({ maxMessageSize: 1000 });
  const c = await open(s.port);
  // Length 200 = 0x81 0x48 in 7-bit groups; the payload contains 0xFF and 0x00 bytes to be ignored.
  const payload = Buffer.alloc(200, 0xff);
  payload[0] = 0x00;
  c.sock.write(Buffer.concat([Buffer.from([0x80, 0x81, 0x48]), payload, text('after')]));
  assert.deepEqual(await c.take(7), text('after'));
  assert.deepEqual(s.messages, ['after']);
  // 0xFE with a length of 2000 exceeds maxMessageSize = 1000.
  c.sock.write(Buffer.from([0xfe, 0x8f, 0x50]));
  await c.until(() => c.ended, 'server FIN');
  c.sock.destroy();
  await s.stop();
});

test('hixie-76: a text frame that is not UTF-8 closes the connection without delivering it', async () => {
  const s = await echoServer();
  const c = await open(s.port);
  c.sock.write(Buffer.concat([text('ok'), Buffer.from([0x00, 0xc3, 0x28, 0xff])]));
  await c.until(() => c.ended, 'server FIN');
  assert.deepEqual(c.buf, Buffer.concat([text('ok'), Buffer.from([0xff, 0x00])]));
  assert.deepEqual(s.messages, ['ok']);
  c.sock.destroy();
  await s.stop();
});

test('hixie-76: a client that never sends key3 is disconnected after the key3 timeout; one that does is not', async () => {
  const s = await echoServer({ key3TimeoutMs: 300 });
  const silent = new Raw(s.port);
  const dropped = new Promise<void>((r) => silent.sock.once('close', () => r()));
  silent.sock.write(request());
  await silent.headers();
  const good = await open(s.port);
  const t0 = Date.now();
  await dropped;
  assert.ok(Date.now() - t0 >= 200, 'dropped before the timeout');
  assert.equal(silent.buf.length, 0, 'no handshake answer without key3');
  // The socket that completed its handshake in time is unaffected: a bounded check that nothing
  // happens, sound because any key3 timer of its own (same process) was set before this one.
  await new Promise((r) => setTimeout(r, 300));
  good.sock.write(text('still here'));
  assert.deepEqual(await good.take(12), text('still here'));
  good.sock.destroy();
  await s.stop();
});
