/**
 * Every limit with its documented answer, backpressure, origins and verify: each would fail
 * without the feature it checks.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Connection } from '../../lib/index.js';
import { GET, POST, Stream, WsClient, sessionUrl, sleep } from '../support/client.js';
import { RawConn } from '../protocol/helpers.js';
import { startService, type TestService } from '../support/service.js';
import { waitUntil } from '../support/wait.js';

/** The server still serves new sessions. */
async function healthy(s: TestService): Promise<void> {
  assert.equal((await POST(sessionUrl(s.url) + '/xhr')).body, 'o\n', 'the server still serves new sessions');
}

test('limit max_message_size: an xhr_send or jsonp_send body over it is 413 with a plain-text reason', async () => {
  const s = await startService({ max_message_size: 100 });
  const base = sessionUrl(s.url);
  await POST(base + '/xhr');
  const big = await POST(base + '/xhr_send', { body: JSON.stringify(['x'.repeat(200)]) });
  assert.equal(big.status, 413);
  assert.match(big.headers['content-type'] ?? '', /^text\/plain/);
  assert.equal(big.body, 'Payload too large: the limit is 100 bytes.');
  const form = await POST(base + '/jsonp_send', { body: 'd=' + 'x'.repeat(200), headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
  assert.equal(form.status, 413);
  assert.equal((await POST(base + '/xhr_send', { body: '["fits"]' })).status, 204);
  await s.close();
});

test('limit max_message_size: a websocket message over it closes the session with 1009 "Message too big"', async () => {
  const s = await startService({ max_message_size: 100 });
  const ws = new WsClient(sessionUrl(s.ws) + '/websocket');
  assert.equal(await ws.next(), 'o');
  ws.send(JSON.stringify(['x'.repeat(500)]));
  await ws.closed;
  assert.equal(ws.closeCode, 1009);
  await waitUntil(() => s.closes.length >= 1, "the session's 'close'");
  assert.deepEqual(s.closes, [[1009, 'Message too big']]);
  assert.equal(s.r.stats.dump().sessions_closed.limit, 1);
  await healthy(s);
  await s.close();
});

test('limit max_session_id_length: a longer session id is 404, as any invalid session path', async () => {
  const s = await startService({ max_session_id_length: 16 });
  assert.equal((await POST(`${s.url}/000/${'a'.repeat(17)}/xhr`)).status, 404);
  assert.equal((await POST(`${s.url}/000/${'a'.repeat(16)}/xhr`)).status, 200);
  assert.equal((await POST(`${s.url}/${'0'.repeat(17)}/${'b'.repeat(16)}/xhr`)).status, 404);
  assert.equal((await POST(`${s.url}/${'0'.repeat(16)}/${'b'.repeat(16)}/xhr`)).status, 200);
  // The default bound: 10 KB of session id is refused.
  const d = await startService();
  assert.equal((await POST(`${d.url}/000/${'a'.repeat(10_000)}/xhr`)).status, 404);
  await s.close();
  await d.close();
});

test('limit max_sessions: beyond it HTTP gets 503 with Retry-After and websocket handshakes are refused', async () => {
  const s = await startService({ max_sessions: 2 });
  await POST(sessionUrl(s.url) + '/xhr');
  await POST(sessionUrl(s.url) + '/xhr');
  const full = await POST(sessionUrl(s.url) + '/xhr');
  assert.equal(full.status, 503);
  assert.equal(full.headers['retry-after'], '1');
  assert.equal(full.body, 'Too many sessions; try again later.');
  const ws = new WsClient(sessionUrl(s.ws) + '/websocket');
  await assert.rejects(ws.opened, /unexpected response 503/);
  await s.close();
});

test('limit max_buffered_bytes: a websocket client that stops reading is closed with 3100 "Send buffer full"', async () => {
  const s = await startService({ high_water_mark: 16 * 1024, max_buffered_bytes: 256 * 1024 });
  const ws = new WsClient(sessionUrl(s.ws) + '/websocket');
  assert.equal(await ws.next(), 'o');
  const conn = s.conns[0]!;
  // The client stops reading: its socket is paused, so the kernel buffers fill, then ours.
  (ws.ws as unknown as { _socket: import('node:net').Socket })._socket.pause();
  const chunk = 'y'.repeat(64 * 1024);
  for (let i = 0; i < 400 && conn.readyState === 1; i++) {
    conn.write(chunk);
    await sleep(2); // pacing, so the socket takes what it can between writes
  }
  assert.equal(conn.readyState, 3);
  assert.deepEqual(s.closes, [[3100, 'Send buffer full']]);
  assert.equal(s.r.stats.dump().sessions_closed.limit, 1);
  await healthy(s);
  await s.close();
});

test('backpressure: write() turns false past high_water_mark, bufferedAmount reports it, drain follows once the client reads', async () => {
  const s = await startService({ high_water_mark: 1000 });
  const base = sessionUrl(s.url);
  await POST(base + '/xhr');
  const conn = s.conns[0]!;
  // No poll pending: everything written waits in the session's queue.
  assert.equal(conn.write('a'.repeat(600)), true);
  assert.equal(conn.bufferedAmount, 602);
  assert.equal(conn.write('b'.repeat(600)), false);
  assert.ok(conn.bufferedAmount > 1000);
  const drained = new Promise<void>((resolve) => conn.once('drain', () => resolve()));
  const poll = await POST(base + '/xhr');
  await drained;
  assert.equal(conn.bufferedAmount, 0);
  assert.equal(poll.body, `a["${'a'.repeat(600)}","${'b'.repeat(600)}"]\n`);
  assert.equal(conn.write('c'), true);
  await s.close();
});

test('backpressure: a slow xhr-streaming reader gets every message once and in order, with drain between bursts', async () => {
  const s = await startService({ high_water_mark: 8 * 1024, response_limit: 1024 * 1024 });
  const base = sessionUrl(s.url);
  const st = new Stream('POST', base + '/xhr_streaming');
  await st.readChars(2049 + 2);
  const conn = s.conns[0]!;
  let sent = 0;
  const total = 2000;
  const pump = async (): Promise<void> => {
    while (sent < total) {
      if (!conn.write(String(sent++).padStart(6, '0') + 'x'.repeat(100))) {
        await new Promise<void>((r) => conn.once('drain', () => r()));
      }
    }
  };
  const pumping = pump();
  let text = '';
  const want: string[] = [];
  for (let i = 0; i < total; i++) want.push(String(i).padStart(6, '0') + 'x'.repeat(100));
  const got: string[] = [];
  while (got.length < total) {
    const chunk = await st.read(5000);
    if (chunk === null) break;
    text += chunk;
    let nl: number;
    while ((nl = text.indexOf('\n')) !== -1) {
      const frame = text.slice(0, nl);
      text = text.slice(nl + 1);
      if (frame.startsWith('a')) got.push(...(JSON.parse(frame.slice(1)) as string[]));
    }
    await sleep(1); // a slow reader
  }
  await pumping;
  assert.deepEqual(got, want);
  st.close();
  await s.close();
});

test('origins: a list of patterns is enforced on every path but the greeting, and on websocket handshakes', async () => {
  const s = await startService({ origins: ['https://*.example.com', 'http://localhost:*'] });
  const bad = { Origin: 'https://evil.test' };
  const good = { Origin: 'https://app.example.com' };
  const base = sessionUrl(s.url);
  assert.equal((await GET(s.url, { headers: bad })).status, 200, 'the greeting is public');
  for (const [method, path] of [['GET', '/info'], ['GET', '/iframe.html'], ['POST', '/0/a/xhr'], ['POST', '/0/a/xhr_streaming'], ['GET', '/0/a/eventsource'], ['GET', '/0/a/htmlfile?c=x'], ['GET', '/0/a/jsonp?c=x']] as const) {
    const r = await (method === 'GET' ? GET : POST)(s.url + path, { headers: bad });
    assert.equal(r.status, 403, `${method} ${path}`);
    assert.equal(r.body, 'Origin not allowed.');
  }
  // The iframe page is loaded by navigation: no Origin header, so the Referer's origin counts.
  assert.equal((await GET(s.url + '/iframe.html', { headers: { Referer: 'https://evil.test/page' } })).status, 403);
  assert.equal((await GET(s.url + '/iframe.html', { headers: { Referer: 'https://www.example.com/page' } })).status, 200);
  assert.equal((await POST(base + '/xhr', { headers: good })).body, 'o\n');
  assert.equal((await POST(base + '/xhr_send', { headers: bad, body: '["x"]' })).status, 403);
  assert.equal((await POST(base + '/xhr_send', { headers: good, body: '["x"]' })).status, 204);
  const refused = new WsClient(sessionUrl(s.ws) + '/websocket', { origin: 'https://evil.test' });
  await assert.rejects(refused.opened, /unexpected response 403/);
  const allowed = new WsClient(sessionUrl(s.ws) + '/websocket', { origin: 'http://localhost:1234' });
  assert.equal(await allowed.next(), 'o');
  allowed.close();
  // Requests that carry no browser origin at all are not a browser's: they pass.
  assert.equal((await POST(sessionUrl(s.url) + '/xhr')).status, 200);
  await s.close();
});

test('origins: a function decides, and "null" origins pass only when listed', async () => {
  const seen: string[] = [];
  const s = await startService({ origins: (origin) => (seen.push(origin), origin.endsWith('.trusted.test')) });
  assert.equal((await GET(s.url + '/info', { headers: { Origin: 'https://a.trusted.test' } })).status, 200);
  assert.equal((await GET(s.url + '/info', { headers: { Origin: 'https://other.test' } })).status, 403);
  assert.deepEqual(seen, ['https://a.trusted.test', 'https://other.test']);
  const n = await startService({ origins: ['https://x.test'] });
  assert.equal((await GET(n.url + '/info', { headers: { Origin: 'null' } })).status, 403);
  const nl = await startService({ origins: ['null'] });
  assert.equal((await GET(nl.url + '/info', { headers: { Origin: 'null' } })).status, 200);
  await s.close();
  await n.close();
  await nl.close();
});

test('verify: runs once per session before it opens (sync or async); false, throwing or rejecting is 403', async () => {
  let calls = 0;
  const s = await startService({
    verify: (req) => {
      calls++;
      const who = req.headers['x-who'];
      if (who === 'throw') throw new Error('boom');
      if (who === 'reject') return Promise.reject(new Error('nope'));
      if (who === 'async') return new Promise((r) => setTimeout(() => r(true), 20));
      return who === 'ok';
    },
  });
  const base = sessionUrl(s.url);
  assert.equal((await POST(base + '/xhr', { headers: { 'x-who': 'ok' } })).body, 'o\n');
  for (let i = 0; i < 5; i++) assert.equal((await POST(base + '/xhr_send', { body: '["m"]' })).status, 204);
  assert.equal(calls, 1, 'verify runs once per session, not per request');
  for (const who of ['no', 'throw', 'reject']) {
    const r = await POST(sessionUrl(s.url) + '/xhr', { headers: { 'x-who': who } });
    assert.equal(r.status, 403, who);
    assert.equal(r.body, 'Forbidden.');
  }
  assert.equal((await POST(sessionUrl(s.url) + '/xhr', { headers: { 'x-who': 'async' } })).body, 'o\n');
  const ws = new WsClient(sessionUrl(s.ws) + '/websocket', { headers: { 'x-who': 'no' } });
  await assert.rejects(ws.opened, /unexpected response 403/);
  const wsOk = new WsClient(sessionUrl(s.ws) + '/websocket', { headers: { 'x-who': 'async' } });
  assert.equal(await wsOk.next(), 'o');
  wsOk.close();
  await s.close();
});

/**
 * A service with one websocket session (framed or raw) whose client has stopped reading: `fill`
 * writes to it and says how many messages it wrote; then the client reads again and must get
 * every one, and the connection must emit 'drain'.
 */
async function pausedReader(raw: boolean, mark: number, fill: (conn: Connection) => Promise<number>): Promise<void> {
  const s = await startService({ high_water_mark: mark, max_buffered_bytes: 256 * 1024 * 1024 });
  const ws = new WsClient(raw ? s.ws + '/websocket' : sessionUrl(s.ws) + '/websocket');
  try {
    if (raw) await ws.opened;
    else assert.equal(await ws.next(), 'o');
    ws.ws.pause();
    const conn = s.conns[0]!;
    const written = await fill(conn);
    const drained = new Promise<boolean>((resolve) => {
      conn.once('drain', () => resolve(true));
      setTimeout(() => resolve(false), 5000);
    });
    ws.ws.resume();
    let got = 0;
    while (got < written) {
      const frame = await ws.next(5000);
      if (frame === null) break;
      got += raw ? 1 : (JSON.parse(frame.slice(1)) as string[]).length;
    }
    assert.deepEqual({ got, drained: await drained }, { got: written, drained: true }, raw ? 'raw' : 'framed');
  } finally {
    ws.close();
    await s.close();
  }
}

test('backpressure: long messages written one per tick (each sent at once) to a paused websocket reader: write() turns false, and drain follows', async () => {
  for (const raw of [false, true]) {
    await pausedReader(raw, 16 * 1024, async (conn) => {
      let written = 0;
      // One write per tick, so that every one goes out on its own, until the buffers are full.
      while (written < 20_000) {
        written++;
        if (!conn.write('m'.repeat(6000))) break;
        await new Promise((r) => setImmediate(r));
      }
      assert.ok(written < 20_000, 'write() returned false');
      return written;
    });
  }
});

test('backpressure: a message whose characters fit under high_water_mark but whose UTF-8 bytes do not turns write() false, and drain follows', async () => {
  const mark = 64 * 1024;
  for (const raw of [false, true]) {
    await pausedReader(raw, mark, async (conn) => {
      // Fill the socket until a little waits in the server's own buffer.
      let written = 0;
      while (conn.bufferedAmount === 0 && written < 20_000) {
        assert.equal(conn.write('f'.repeat(2000)), true);
        written++;
        await new Promise((r) => setImmediate(r));
      }
      const buffered = conn.bufferedAmount;
      assert.ok(buffered > 0 && buffered < mark - 8192, `${buffered} bytes wait in the server`);
      // As many characters as the mark has room for, three UTF-8 bytes each.
      assert.equal(conn.write('€'.repeat(mark - buffered - 8)), false);
      return written + 1;
    });
  }
});

test('backpressure: long websocket echoes (header and received bytes, written straight to the socket) reach a paused reader once and in order, and drain follows', async () => {
  let echoed = 0;
  const s = await startService({ high_water_mark: 16 * 1024, max_buffered_bytes: 256 * 1024 * 1024 }, (r) =>
    r.on('connection', (c) =>
      c.on('data', (m) => {
        echoed++;
        c.write(m);
      }),
    ),
  );
  const ws = new WsClient(sessionUrl(s.ws) + '/websocket');
  assert.equal(await ws.next(), 'o');
  try {
    const conn = s.conns[0]!;
    let drains = 0;
    conn.on('drain', () => drains++);
    // 20 MB: more than loopback's socket buffers take, so the server's own buffer grows. One
    // message per tick, so that each echo is written on its own (no batching into one frame).
    const want = Array.from({ length: 4000 }, (_, i) => String(i).padStart(6, '0') + 'q'.repeat(5000));
    ws.ws.pause();
    for (const m of want) {
      ws.send(JSON.stringify([m]));
      await new Promise((r) => setImmediate(r));
    }
    await waitUntil(() => echoed >= want.length, 'every message echoed', 20_000);
    const buffered = conn.bufferedAmount;
    const drainsBefore = drains;
    ws.ws.resume();
    const got: string[] = [];
    while (got.length < want.length) {
      const frame = await ws.next(5000);
      if (frame === null) break;
      got.push(...(JSON.parse(frame.slice(1)) as string[]));
    }
    assert.equal(echoed, want.length);
    assert.ok(buffered >= 1024 * 1024, `the server buffered ${buffered} bytes for the paused reader`);
    assert.equal(got.length, want.length);
    assert.ok(got.every((m, i) => m === want[i]), 'every echo once, in order');
    await waitUntil(() => drains > drainsBefore, "'drain' once the reader caught up");
    assert.ok(drains > drainsBefore, "'drain' followed once the reader caught up");
  } finally {
    ws.close();
    await s.close();
  }
});

test('backpressure: a slow websocket reader (framed and raw) gets every message once and in order, with drain between bursts', async () => {
  for (const raw of [false, true]) {
    const s = await startService({ high_water_mark: 8 * 1024 });
    const ws = new WsClient(raw ? s.ws + '/websocket' : sessionUrl(s.ws) + '/websocket');
    if (raw) await ws.opened;
    else assert.equal(await ws.next(), 'o');
    const conn = s.conns[0]!;
    const total = 3000;
    const want = Array.from({ length: total }, (_, i) => String(i).padStart(6, '0') + 'z'.repeat(200));
    let drains = 0;
    const pumping = (async () => {
      for (const m of want) {
        if (!conn.write(m)) {
          await new Promise<void>((r) => conn.once('drain', () => r()));
          drains++;
        }
      }
    })();
    const got: string[] = [];
    while (got.length < total) {
      const m = await ws.next(5000);
      if (m === null) break;
      if (raw) got.push(m);
      else if (m.startsWith('a')) got.push(...(JSON.parse(m.slice(1)) as string[]));
      if (got.length % 100 === 0) await sleep(1); // a slow reader
    }
    await pumping;
    assert.deepEqual(got, want, raw ? 'raw' : 'framed');
    // Framed writes queue within a tick, so the loop passes the mark and waits for drain; raw
    // writes go straight to the socket, which loopback's kernel buffers absorb.
    if (!raw) assert.ok(drains > 0, 'write() returned false at least once, and drain followed');
    ws.close();
    await s.close();
  }
});
