/** The framed websocket transport (`/<server>/<session>/websocket`) and its HTTP-level errors. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import { GET, POST, WsClient, sessionUrl, type Reply } from '../support/client.js';
import { RawConn, serverForFile } from './helpers.js';

const srv = serverForFile();

const wsUrl = (service: string): string => sessionUrl(srv.url.replace('http:', 'ws:') + service) + '/websocket';

test('websocket: the first message is "o", and a JSON array sent is echoed back as a[...]', async () => {
  const ws = new WsClient(wsUrl('/echo'));
  assert.equal(await ws.next(), 'o');
  ws.send('["a"]');
  assert.equal(await ws.next(), 'a["a"]');
  ws.send('["b","c"]');
  // One frame or two: either way both messages come back, in order.
  const got: string[] = [];
  while (got.length < 2) {
    const frame = await ws.next();
    assert.ok(frame !== null && frame.startsWith('a['), String(frame));
    got.push(...(JSON.parse(frame.slice(1)) as string[]));
  }
  assert.deepEqual(got, ['b', 'c']);
  ws.close();
  await ws.closed;
});

test('websocket: an empty message and "[]" are ignored', async () => {
  const ws = new WsClient(wsUrl('/echo'));
  assert.equal(await ws.next(), 'o');
  ws.send('');
  ws.send('[]');
  ws.send('["a"]');
  assert.equal(await ws.next(), 'a["a"]');
  assert.equal(ws.closeCode, null, 'still open');
  ws.close();
  await ws.closed;
});

test('websocket: broken JSON makes the server close the socket, without a close frame', async () => {
  const ws = new WsClient(wsUrl('/echo'));
  assert.equal(await ws.next(), 'o');
  ws.send('["a');
  assert.equal(await ws.next(), null, 'the socket closes with no message before it');
  assert.notEqual(ws.closeCode, null);
});

test('websocket: long one-message payloads: raw control characters anywhere close the socket (1002); other text, escapes and multi-byte characters echo intact', async () => {
  // Payloads above a few hundred bytes are checked four bytes at a time, four words a turn:
  // every offset mod 4, both ends, the words after the last full turn, and lengths that leave
  // 0 to 3 words (and 0 to 3 bytes) over must be caught.
  const bad: string[] = [];
  for (const size of [257, 258, 259, 260, 265, 266, 267, 268, 269, 270, 271, 272, 4096, 70_000]) {
    for (const at of [0, 1, 2, 3, 4, 5, Math.floor(size / 2), size - 17, size - 13, size - 9, size - 5, size - 2, size - 1]) {
      const ctl = String.fromCharCode([0x00, 0x01, 0x0a, 0x1f][at % 4]!);
      bad.push('["' + 'x'.repeat(at) + ctl + 'x'.repeat(size - at - 1) + '"]');
    }
  }
  // A few sockets at a time: 182 handshakes at once miss their deadlines on a loaded machine.
  const closes: { got: string | null; code: number | null }[] = [];
  for (let i = 0; i < bad.length; i += 16) {
    closes.push(...await Promise.all(
      bad.slice(i, i + 16).map(async (payload) => {
        const ws = new WsClient(wsUrl('/echo'));
        assert.equal(await ws.next(10_000), 'o');
        ws.send(payload);
        const got = await ws.next(10_000);
        if (got !== null) ws.close();
        await ws.closed;
        return { got, code: ws.closeCode };
      }),
    ));
  }
  for (const [i, c] of closes.entries()) assert.deepEqual(c, { got: null, code: 1002 }, `payload #${i} (${bad[i]!.length} bytes)`);

  const good = [
    'é€😀 \u007f'.repeat(100),
    'x'.repeat(4093) + '\u00ff',
    ' ~'.repeat(3000),
    'q"uote\\back\nslash'.repeat(50),
    // Echoed with a 64-bit length in the frame header.
    'y'.repeat(70_000),
  ];
  const ws = new WsClient(wsUrl('/echo'));
  assert.equal(await ws.next(), 'o');
  for (const m of good) {
    ws.send(JSON.stringify([m]));
    assert.deepEqual(JSON.parse((await ws.next())!.slice(1)), [m]);
  }
  ws.close();
  await ws.closed;
});

test('websocket: a service that closes at once sends o, then c[3000,"Go away!"], then closes the socket', async () => {
  const ws = new WsClient(wsUrl('/close'));
  assert.equal(await ws.next(), 'o');
  assert.equal(await ws.next(), 'c[3000,"Go away!"]');
  assert.equal(await ws.next(), null);
});

test('websocket: two websockets may use the same session id at once, as independent sessions; the id can be reused after', async () => {
  const url = wsUrl('/echo');
  const ws1 = new WsClient(url);
  assert.equal(await ws1.next(), 'o');
  const ws2 = new WsClient(url);
  assert.equal(await ws2.next(), 'o');
  ws1.send('["a"]');
  assert.equal(await ws1.next(), 'a["a"]');
  ws2.send('["b"]');
  assert.equal(await ws2.next(), 'a["b"]');
  assert.equal(ws1.closeCode, null);
  assert.equal(ws2.closeCode, null);
  ws1.close();
  ws2.close();
  await Promise.all([ws1.closed, ws2.closed]);
  const again = new WsClient(url);
  assert.equal(await again.next(), 'o');
  again.send('["c"]');
  assert.equal(await again.next(), 'a["c"]');
  again.close();
  await again.closed;
});

test('websocket: the RFC 6455 handshake answers 101 with the right Sec-WebSocket-Accept, Upgrade/Connection headers, no Content-Length', async () => {
  const path = `/echo/000/${randomUUID()}/websocket`;
  const c = new RawConn(srv.port);
  try {
    c.write(
      `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${srv.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Origin: http://asd\r\nSec-WebSocket-Key: x3JJHMbDL1EzLkh9GBhXDw==\r\n\r\n',
    );
    const h = await c.head();
    assert.equal(h.status, 101);
    assert.equal(h.headers['sec-websocket-accept'], 'HSmrc0sMlYUkAGmm5OPpG2HaGWk=');
    assert.equal(h.headers.connection?.toLowerCase(), 'upgrade');
    assert.equal(h.headers.upgrade?.toLowerCase(), 'websocket');
    assert.equal(h.headers['content-length'], undefined);
  } finally {
    c.destroy();
  }
});

test('websocket: a Connection header listing several tokens ("keep-alive, Upgrade", as Firefox sends) still upgrades', async () => {
  const c = new RawConn(srv.port);
  try {
    c.write(
      `GET /echo/000/${randomUUID()}/websocket HTTP/1.1\r\nHost: 127.0.0.1:${srv.port}\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n` +
        'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: x3JJHMbDL1EzLkh9GBhXDw==\r\n\r\n',
    );
    const h = await c.head();
    assert.equal(h.status, 101);
    assert.equal(h.headers['sec-websocket-accept'], 'HSmrc0sMlYUkAGmm5OPpG2HaGWk=');
    // The first websocket frame: FIN + text opcode, 1-byte length, "o".
    assert.deepEqual(await c.bytes(3), Buffer.from([0x81, 0x01, 0x6f]));
  } finally {
    c.destroy();
  }
});

test('websocket: a plain GET (no Upgrade) is 400, on the framed and on the raw endpoint', async () => {
  assert.equal((await GET(srv.url + '/echo/0/0/websocket')).status, 400);
  assert.equal((await GET(srv.url + '/echo/websocket')).status, 400);
});

test('websocket: "Upgrade: WebSocket" with "Connection: close" (a proxy rewrote it) is 400', async () => {
  const r = await GET(srv.url + '/echo/0/0/websocket', { headers: { Upgrade: 'WebSocket', Connection: 'close' } });
  assert.equal(r.status, 400);
});

test('websocket: POST is 405 with an Allow header and neither body nor content type, with or without upgrade headers', async () => {
  const variants: Record<string, string>[] = [{ Upgrade: 'WebSocket', Connection: 'Upgrade' }, {}];
  for (const headers of variants) {
    const r: Reply = await POST(srv.url + '/echo/0/0/websocket', { headers });
    assert.equal(r.status, 405, JSON.stringify(headers));
    assert.ok(r.headers.allow, 'Allow');
    assert.equal(r.headers['content-type'], undefined);
    assert.equal(r.body, '');
  }
});

test('websocket: on a service with websockets disabled the endpoint is 404, handshake or not', async () => {
  const status = await new Promise<number>((resolve, reject) => {
    const ws = new WebSocket(wsUrl('/disabled_websocket_echo'));
    ws.on('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.on('open', () => reject(new Error('the websocket opened')));
    ws.on('error', () => {});
  });
  assert.equal(status, 404);
  assert.equal((await GET(srv.url + '/disabled_websocket_echo/0/0/websocket')).status, 404);
});
