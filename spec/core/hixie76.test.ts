/** The legacy hixie-76 websocket handshake (behind the hixie76 option), over raw TCP. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { randomUUID } from 'node:crypto';
import { startTestServer, type TestServer } from '../support/test-server.js';

let srv: TestServer;
before(async () => {
  srv = await startTestServer();
});
after(async () => {
  await srv.close();
});

const KEY1 = '4 @1  46546xW%0l 1 5';
const KEY2 = '12998 5 Y3 1  .P00';
// md5(be32(4 @1 46546xW%0l 1 5 → 1414654615 / 5), be32(…), 'aaaaaaaa'), as the protocol suite expects.
const ANSWER = Buffer.from('ca3400d8a50847972cd5715abab f437b'.replace(/ /g, ''), 'hex');

function handshake(path: string, key1 = KEY1, key2 = KEY2): string {
  return `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${srv.port}\r\nConnection: Upgrade\r\nUpgrade: WebSocket\r\n` +
    `Origin: http://127.0.0.1:${srv.port}\r\nSec-WebSocket-Key1: ${key1}\r\nSec-WebSocket-Key2: ${key2}\r\n\r\n`;
}

/** A raw socket with an inbox of bytes. */
function connect(port = srv.port): { sock: net.Socket; read(n: number, ms?: number): Promise<Buffer>; ended: Promise<void> } {
  const sock = net.connect(port, '127.0.0.1');
  let buf = Buffer.alloc(0);
  let wake: (() => void) | null = null;
  sock.on('data', (d) => {
    buf = Buffer.concat([buf, d]);
    wake?.();
  });
  const ended = new Promise<void>((r) => sock.on('close', () => {
    r();
    wake?.();
  }));
  sock.on('error', () => {});
  return {
    sock,
    ended,
    async read(n, ms = 5000) {
      const deadline = Date.now() + ms;
      while (buf.length < n && Date.now() < deadline && !sock.destroyed) {
        await new Promise<void>((r) => {
          wake = r;
          setTimeout(r, 50);
        });
      }
      const out = buf.subarray(0, n);
      buf = buf.subarray(out.length);
      return out;
    },
  };
}

async function readHeaders(c: ReturnType<typeof connect>): Promise<string> {
  let head = '';
  while (!head.endsWith('\r\n\r\n')) {
    const b = await c.read(1);
    if (b.length === 0) break;
    head += b.toString('latin1');
  }
  return head;
}

const path = (): string => `/echo/000/${randomUUID()}/websocket`;

test('hixie-76: 101 headers come before key3 arrives (the haproxy case), then the 16-byte MD5 answer and o', async () => {
  const c = connect();
  const p = path();
  c.sock.write(handshake(p));
  const head = await readHeaders(c);
  assert.match(head, /^HTTP\/1\.1 101 /);
  assert.match(head, /\r\nUpgrade: WebSocket\r\n/i);
  assert.match(head, /\r\nConnection: Upgrade\r\n/i);
  assert.match(head, new RegExp(`\\r\\nSec-WebSocket-Location: ws://127\\.0\\.0\\.1:${srv.port}${p}\\r\\n`));
  assert.match(head, new RegExp(`\\r\\nSec-WebSocket-Origin: http://127\\.0\\.0\\.1:${srv.port}\\r\\n`));
  assert.doesNotMatch(head, /content-length/i);
  c.sock.write('aaaaaaaa');
  assert.deepEqual(await c.read(16), ANSWER);
  assert.deepEqual(await c.read(3), Buffer.from([0x00, 0x6f, 0xff]));
  c.sock.destroy();
});

test('hixie-76: key3 sent with the request, or split across writes, gives the same answer', async () => {
  for (const parts of [[handshake(path()) + 'aaaaaaaa'], [handshake(path()) + 'aaa', 'aaaaa']]) {
    const c = connect();
    for (const part of parts) {
      c.sock.write(part);
      await new Promise((r) => setTimeout(r, 20)); // pacing, so the parts arrive apart
    }
    await readHeaders(c);
    assert.deepEqual(await c.read(16), ANSWER);
    c.sock.destroy();
  }
});

test('hixie-76: text frames carry SockJS frames both ways (non-ASCII too); binary frames are skipped', async () => {
  const c = connect();
  c.sock.write(handshake(path()) + 'aaaaaaaa');
  await readHeaders(c);
  await c.read(16 + 3);
  const msg = JSON.stringify(['h\u00e9llo \u{1F600}']);
  // A binary frame (0x80, length 3) first: it must be ignored.
  c.sock.write(Buffer.concat([Buffer.from([0x80, 0x03, 1, 2, 3, 0x00]), Buffer.from(msg), Buffer.from([0xff])]));
  const expected = Buffer.concat([Buffer.from([0x00]), Buffer.from('a' + msg), Buffer.from([0xff])]);
  assert.deepEqual(await c.read(expected.length), expected);
  c.sock.destroy();
});

test('hixie-76: the closing handshake (0xFF 0x00) is answered and the connection ends', async () => {
  const c = connect();
  c.sock.write(handshake(path()) + 'aaaaaaaa');
  await readHeaders(c);
  await c.read(16 + 3);
  c.sock.write(Buffer.from([0xff, 0x00]));
  assert.deepEqual(await c.read(2), Buffer.from([0xff, 0x00]));
  await c.ended;
});

test('hixie-76: a key without spaces is a 400, and the server keeps serving', async () => {
  const c = connect();
  c.sock.write(handshake(path(), '12345', KEY2));
  const head = await readHeaders(c);
  assert.match(head, /^HTTP\/1\.1 400 /);
  await c.ended;
  const ok = connect();
  ok.sock.write(handshake(path()) + 'aaaaaaaa');
  await readHeaders(ok);
  assert.deepEqual(await ok.read(16), ANSWER);
  ok.sock.destroy();
});

test('hixie-76: a text frame longer than max_message_size (1 MiB) drops the connection', async () => {
  const c = connect();
  c.sock.write(handshake(path()) + 'aaaaaaaa');
  await readHeaders(c);
  await c.read(16 + 3);
  c.sock.write(Buffer.concat([Buffer.from([0x00]), Buffer.alloc(1024 * 1024 + 10, 0x61)]));
  await c.ended;
});

test('hixie-76: no ping exists, so a peer that only listens is never timed out: it gets h frames and its session stays open', async () => {
  const quick = await startTestServer(0, '127.0.0.1', { heartbeat_delay: 100, heartbeat_timeout: 100 });
  const echo = quick.services.echo!;
  const opened = new Promise<{ readyState: number }>((resolve) => echo.once('connection', resolve));
  const c = connect(quick.port);
  c.sock.write(handshake(path()) + 'aaaaaaaa');
  await readHeaders(c);
  assert.deepEqual(await c.read(16 + 3), Buffer.concat([ANSWER, Buffer.from([0x00, 0x6f, 0xff])]));
  const conn = await opened;
  // Five heartbeats: well past heartbeat_delay + heartbeat_timeout, with nothing sent back.
  for (let i = 0; i < 5; i++) assert.deepEqual(await c.read(3, 3000), Buffer.from([0x00, 0x68, 0xff]));
  assert.equal(conn.readyState, 1);
  c.sock.destroy();
  await c.ended;
  await quick.close();
});
