/** The legacy hixie-76 websocket handshake (enabled on the test server), over raw TCP. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { RawConn, serverForFile } from './helpers.js';

const srv = serverForFile();

const ANSWER = Buffer.from([0xca, 0x34, 0x00, 0xd8, 0xa5, 0x08, 0x47, 0x97, 0x2c, 0xd5, 0x71, 0x5a, 0xba, 0xbf, 0x43, 0x7b]);

function handshake(c: RawConn, path: string, origin: string): void {
  c.write(
    `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${srv.port}\r\nConnection: Upgrade\r\nUpgrade: WebSocket\r\nOrigin: ${origin}\r\n` +
      'Sec-WebSocket-Key1: 4 @1  46546xW%0l 1 5\r\nSec-WebSocket-Key2: 12998 5 Y3 1  .P00\r\n\r\n',
  );
}

test('hixie-76: 101 with Location and Origin arrives before the 8 key bytes are sent; then the 16-byte MD5 answer', async () => {
  const path = `/echo/000/${randomUUID()}/websocket`;
  const origin = srv.url;
  const c = new RawConn(srv.port);
  try {
    handshake(c, path, origin);
    const h = await c.head();
    assert.equal(h.status, 101);
    assert.equal(h.headers.connection?.toLowerCase(), 'upgrade');
    assert.equal(h.headers.upgrade?.toLowerCase(), 'websocket');
    assert.equal(h.headers['sec-websocket-location'], `ws://127.0.0.1:${srv.port}${path}`);
    assert.equal(h.headers['sec-websocket-origin'], origin);
    assert.equal(h.headers['content-length'], undefined);
    c.write('aaaaaaaa');
    assert.deepEqual(await c.bytes(16), ANSWER);
  } finally {
    c.destroy();
  }
});

test('hixie-76: after the handshake, SockJS frames travel as 0x00 <utf-8> 0xFF: "o", then the echo', async () => {
  const c = new RawConn(srv.port);
  try {
    handshake(c, `/echo/000/${randomUUID()}/websocket`, srv.url);
    await c.head();
    c.write('aaaaaaaa');
    await c.bytes(16);
    assert.deepEqual(await c.bytes(3), Buffer.from([0x00, 0x6f, 0xff]));
    c.write(Buffer.concat([Buffer.from([0x00]), Buffer.from('["é"]'), Buffer.from([0xff])]));
    const frame = Buffer.from(await c.until('\xff'), 'latin1');
    assert.deepEqual(frame, Buffer.concat([Buffer.from([0x00]), Buffer.from('a["é"]'), Buffer.from([0xff])]));
  } finally {
    c.destroy();
  }
});
