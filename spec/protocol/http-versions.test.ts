/** HTTP/1.0 and HTTP/1.1 framing of plain and streaming answers, over raw TCP. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { PRELUDE, RawConn, serverForFile } from './helpers.js';

const srv = serverForFile();

const GREETING = 'Welcome to SockJS!\n';

function get(c: RawConn, version: string): void {
  c.write(`GET /echo HTTP/${version}\r\nHost: 127.0.0.1:${srv.port}\r\nConnection: Keep-Alive\r\n\r\n`);
}

test('http/1.0: the greeting to a keep-alive request has Content-Length 19 and no chunking; the connection then serves another request or closes', async () => {
  const c = new RawConn(srv.port);
  try {
    get(c, '1.0');
    const h = await c.head();
    assert.equal(h.status, 200);
    assert.ok(h.version === '1.0' || h.version === '1.1', h.version);
    assert.equal(h.headers['transfer-encoding'], undefined);
    assert.equal(h.headers['content-length'], '19');
    assert.equal((await c.bytes(19)).toString(), GREETING);
    const conn = (h.headers.connection ?? '').toLowerCase();
    if (conn === 'keep-alive') {
      get(c, '1.0');
      const again = await c.head();
      assert.equal(again.status, 200);
      assert.equal((await c.bytes(19)).toString(), GREETING);
    } else {
      assert.ok(conn === 'close' || conn === '', conn);
      assert.ok(await c.closedByServer(), 'a non-keep-alive HTTP/1.0 answer closes the connection');
    }
  } finally {
    c.destroy();
  }
});

test('http/1.1: the greeting is framed (Content-Length 19 or chunked) and the connection stays open for a second request', async () => {
  const c = new RawConn(srv.port);
  try {
    get(c, '1.1');
    const h = await c.head();
    assert.equal(h.status, 200);
    assert.ok(['keep-alive', ''].includes((h.headers.connection ?? '').toLowerCase()), h.headers.connection);
    if (h.headers['content-length'] !== undefined) {
      assert.equal(h.headers['content-length'], '19');
      assert.equal(h.headers['transfer-encoding'], undefined);
      assert.equal((await c.bytes(19)).toString(), GREETING);
    } else {
      assert.equal(h.headers['transfer-encoding']?.toLowerCase(), 'chunked');
      assert.equal(await c.chunk(), GREETING);
      assert.equal(await c.chunk(), '');
    }
    get(c, '1.1');
    const again = await c.head();
    assert.equal(again.status, 200);
  } finally {
    c.destroy();
  }
});

test('http/1.0: xhr_streaming is neither chunked nor length-framed, and the server closes the connection after the close frame', async () => {
  const c = new RawConn(srv.port);
  try {
    c.write(`POST /close/000/${randomUUID()}/xhr_streaming HTTP/1.0\r\nHost: 127.0.0.1:${srv.port}\r\nConnection: Keep-Alive\r\n\r\n`);
    const h = await c.head();
    assert.equal(h.status, 200);
    assert.equal(h.headers['transfer-encoding'], undefined);
    assert.equal(h.headers['content-length'], undefined);
    assert.equal((await c.bytes(PRELUDE.length)).toString(), PRELUDE);
    assert.equal((await c.bytes(2)).toString(), 'o\n');
    assert.equal((await c.bytes(19)).toString(), 'c[3000,"Go away!"]\n');
    assert.ok(await c.closedByServer(), 'connection closed with nothing after the close frame: ' + JSON.stringify(c.leftover()));
  } finally {
    c.destroy();
  }
});

test('http/1.1: xhr_streaming is chunked without Content-Length: prelude, o, close frame, then the last chunk', async () => {
  const c = new RawConn(srv.port);
  try {
    c.write(`POST /close/000/${randomUUID()}/xhr_streaming HTTP/1.1\r\nHost: 127.0.0.1:${srv.port}\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n`);
    const h = await c.head();
    assert.equal(h.status, 200);
    assert.equal(h.headers['transfer-encoding']?.toLowerCase(), 'chunked');
    assert.equal(h.headers['content-length'], undefined);
    let body = '';
    for (let chunk = await c.chunk(); chunk !== ''; chunk = await c.chunk()) body += chunk;
    assert.equal(body, PRELUDE + 'o\n' + 'c[3000,"Go away!"]\n');
  } finally {
    c.destroy();
  }
});
