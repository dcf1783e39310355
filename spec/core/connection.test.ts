/** The Connection object users hold, and the session life cycle behind it. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import http from 'node:http';
import express from 'express';
import connect from 'connect';
import sockjs, { type Connection, type SockJSOptions, type SockJSRouter } from '../../lib/index.js';
import { GET, POST, Stream, WsClient, sessionUrl, sleep } from '../support/client.js';
import { startService } from '../support/service.js';
import { waitUntil } from '../support/wait.js';

const nextConnection = (r: SockJSRouter): Promise<Connection> => new Promise((res) => r.once('connection', res));

function closeEvents(c: Connection): { events: [number, string][]; once: Promise<[number, string]> } {
  const events: [number, string][] = [];
  const once = new Promise<[number, string]>((resolve) =>
    c.on('close', (code, reason) => {
      events.push([code, reason]);
      resolve([code, reason]);
    }),
  );
  return { events, once };
}

test('connection: exposes the opening request (url, pathname, prefix, headers without cookies, cookies, query, address)', async () => {
  const s = await startService();
  const got = s.nextConnection();
  const base = sessionUrl(s.url);
  await POST(base + '/xhr?token=abc&x=1', {
    headers: { Cookie: 'sid=42; theme=dark', 'User-Agent': 'test-agent', Origin: 'http://example.test', 'X-Forwarded-For': '10.1.2.3', Authorization: 'Bearer x' },
  });
  const c = await got;
  assert.match(c.id, /^[0-9a-f-]{36}$/);
  assert.ok(!base.includes(c.id), 'the session id from the URL is never exposed');
  assert.equal(c.protocol, 'xhr-polling');
  assert.equal(c.readyState, 1);
  assert.equal(c.remoteAddress, '127.0.0.1');
  assert.equal(typeof c.remotePort, 'number');
  assert.equal(c.prefix, '/svc');
  assert.equal(c.pathname, new URL(base).pathname + '/xhr');
  assert.equal(c.url, new URL(base).pathname + '/xhr?token=abc&x=1');
  assert.deepEqual(c.query, { token: 'abc', x: '1' });
  assert.deepEqual({ ...c.cookies }, { sid: '42', theme: 'dark' });
  assert.equal(c.headers['user-agent'], 'test-agent');
  assert.equal(c.headers.origin, 'http://example.test');
  assert.equal(c.headers['x-forwarded-for'], '10.1.2.3');
  assert.ok(!('cookie' in c.headers) && !('authorization' in c.headers));
  await s.close();
});

test('connection: protocol names the transport that opened the session', async () => {
  const s = await startService();
  const ws = new WsClient(sessionUrl(s.url.replace('http', 'ws')) + '/websocket');
  await ws.next();
  const raw = new WsClient(s.url.replace('http', 'ws') + '/websocket');
  await raw.opened;
  const es = new Stream('GET', sessionUrl(s.url) + '/eventsource');
  await es.readChars(2 + 11);
  await waitUntil(() => s.conns.length >= 3, 'the eventsource connection');
  assert.deepEqual(s.conns.map((c) => c.protocol), ['websocket', 'websocket-raw', 'eventsource']);
  ws.close();
  raw.close();
  es.close();
  await s.close();
});

test('connection: write() takes strings, Buffers and numbers, and names what to fix for objects', async () => {
  const s = await startService();
  const got = s.nextConnection();
  const ws = new WsClient(sessionUrl(s.url.replace('http', 'ws')) + '/websocket');
  assert.equal(await ws.next(), 'o');
  const c = await got;
  assert.equal(c.write('s'), true);
  c.write(Buffer.from('b\u00e9'));
  c.write(42);
  assert.throws(() => c.write({ a: 1 } as never), /write\(\) takes a string, Buffer or number \(got object\); use JSON.stringify\(\)/);
  assert.equal(await ws.next(), 'a["s","b\u00e9","42"]');
  ws.close();
  await s.close();
});

test('connection: close() validates its code and reason, and returns false once closed', async () => {
  const s = await startService();
  const got = s.nextConnection();
  const ws = new WsClient(sessionUrl(s.url.replace('http', 'ws')) + '/websocket');
  await ws.next();
  const c = await got;
  assert.throws(() => c.close(99), /close code must be an integer from 1000 to 4999 \(got 99\)/);
  assert.throws(() => c.close(3000, 5 as never), /close reason must be a string/);
  assert.equal(c.close(4000, 'bye'), true);
  assert.equal(c.close(), false);
  assert.equal(c.readyState, 3);
  assert.equal(c.write('late'), false);
  assert.equal(await ws.next(), 'c[4000,"bye"]');
  await ws.closed;
  await s.close();
});

test('lifecycle: "close" fires exactly once when a websocket client vanishes without a close frame', async () => {
  const s = await startService();
  const got = s.nextConnection();
  const ws = new WsClient(sessionUrl(s.url.replace('http', 'ws')) + '/websocket');
  await ws.next();
  const c = await got;
  const ev = closeEvents(c);
  ws.ws.terminate();
  await ev.once;
  // Bounded check that nothing more happens: no second 'close' within 50 ms.
  await sleep(50);
  assert.equal(ev.events.length, 1);
  assert.equal(c.readyState, 3);
  assert.equal(s.r.connections.size, 0);
  await s.close();
});

test('lifecycle: an aborted streaming request closes the session with 1002 "Connection interrupted", once', async () => {
  const s = await startService();
  const got = s.nextConnection();
  const base = sessionUrl(s.url);
  const st = new Stream('POST', base + '/xhr_streaming');
  await st.readChars(2049 + 2);
  const c = await got;
  const ev = closeEvents(c);
  st.close();
  assert.deepEqual(await ev.once, [1002, 'Connection interrupted']);
  // A late receiver learns how the session ended.
  assert.equal((await POST(base + '/xhr')).body, 'c[1002,"Connection interrupted"]\n');
  assert.equal(ev.events.length, 1);
  await s.close();
});

test('lifecycle: a polling client that never returns is closed after disconnect_delay (1006 "Session timed out")', async () => {
  const s = await startService({ disconnect_delay: 150 });
  const got = s.nextConnection();
  const base = sessionUrl(s.url);
  // Taken before the poll: the server's timer starts after it, however late the reply comes.
  const t0 = Date.now();
  await POST(base + '/xhr');
  const c = await got;
  const ev = closeEvents(c);
  assert.deepEqual(await ev.once, [1006, 'Session timed out']);
  assert.ok(Date.now() - t0 >= 100);
  // The closed session lingers for another disconnect_delay, then is forgotten: a new session.
  assert.equal((await POST(base + '/xhr')).body, 'c[1006,"Session timed out"]\n');
  // Not a guess at the server's speed: the linger timer (150 ms, restarted by the reply above) was
  // set before this longer one in the same process, and Node runs due timers in order.
  await sleep(400);
  assert.equal((await POST(base + '/xhr')).body, 'o\n');
  await s.close();
});

test('lifecycle: messages written while no receiver is attached are delivered in order to the next one', async () => {
  const s = await startService();
  const got = s.nextConnection();
  const base = sessionUrl(s.url);
  await POST(base + '/xhr');
  const c = await got;
  for (let i = 0; i < 5; i++) c.write('m' + i);
  c.close(3001, 'done');
  assert.equal((await POST(base + '/xhr')).body, 'a["m0","m1","m2","m3","m4"]\n');
  assert.equal((await POST(base + '/xhr')).body, 'c[3001,"done"]\n');
  await s.close();
});

test('heartbeat: an idle websocket receives "h" every heartbeat_delay; a waiting poll is answered "h"', async () => {
  const s = await startService({ heartbeat_delay: 100 });
  const ws = new WsClient(sessionUrl(s.url.replace('http', 'ws')) + '/websocket');
  assert.equal(await ws.next(), 'o');
  assert.equal(await ws.next(1000), 'h');
  assert.equal(await ws.next(1000), 'h');
  ws.close();
  const base = sessionUrl(s.url);
  await POST(base + '/xhr');
  assert.equal((await POST(base + '/xhr')).body, 'h\n');
  await s.close();
});

test('graceful close(): every open session gets a close frame, new sessions get 503, and it resolves', async () => {
  const s = await startService();
  const ws = new WsClient(sessionUrl(s.url.replace('http', 'ws')) + '/websocket');
  assert.equal(await ws.next(), 'o');
  const st = new Stream('POST', sessionUrl(s.url) + '/xhr_streaming');
  await st.readChars(2049 + 2);
  const polling = sessionUrl(s.url);
  await POST(polling + '/xhr');
  const closing = s.r.close();
  assert.equal(await ws.next(), 'c[1001,"Server is shutting down"]');
  assert.equal(await st.readChars(34), 'c[1001,"Server is shutting down"]\n');
  const refused = await POST(sessionUrl(s.url) + '/xhr');
  assert.equal(refused.status, 503);
  assert.equal(refused.headers['retry-after'], '1');
  // The polling client comes back and is told; then nothing is left and close() resolves.
  assert.equal((await POST(polling + '/xhr')).body, 'c[1001,"Server is shutting down"]\n');
  await closing;
  assert.equal(s.r.connections.size, 0);
  assert.equal((await GET(s.url)).status, 200);
  await s.close();
});

test('heartbeat: a raw websocket gets a websocket ping every heartbeat_delay instead of an h frame', async () => {
  const s = await startService({ heartbeat_delay: 100 });
  const raw = new WsClient(s.url.replace('http', 'ws') + '/websocket');
  await raw.opened;
  const pinged = new Promise<void>((resolve) => raw.ws.once('ping', () => resolve()));
  await pinged;
  await assert.rejects(raw.next(150), /timed out/);
  raw.close();
  await s.close();
});

test('heartbeat: the line is never silent for longer than heartbeat_delay, even right after a message', async () => {
  const s = await startService({ heartbeat_delay: 1000 });
  const got = s.nextConnection();
  const ws = new WsClient(sessionUrl(s.url.replace('http', 'ws')) + '/websocket');
  assert.equal(await ws.next(), 'o');
  const c = await got;
  assert.equal(await ws.next(3000), 'h');
  // Just after a heartbeat tick: a message resets the silence; the next h follows 1 s later,
  // not at the second tick after it (which would leave ~2 s of silence). The bounds leave room
  // for a loaded machine's late timers.
  c.write('m');
  const t0 = Date.now();
  assert.equal(await ws.next(), 'a["m"]');
  assert.equal(await ws.next(4000), 'h');
  const silence = Date.now() - t0;
  assert.ok(silence >= 900 && silence < 1700, `silence after the message was ${silence} ms`);
  ws.close();
  await s.close();
});

test('connection: locals carries res.locals from middleware in front of the router, for HTTP and websocket sessions', async () => {
  const s = await startService({}, (_r, app) =>
    app.use((req, res, next) => {
      res.locals.user = req.headers['x-user'];
      next();
    }),
  );
  await POST(sessionUrl(s.url) + '/xhr', { headers: { 'x-user': 'alice' } });
  const ws = new WsClient(sessionUrl(s.ws) + '/websocket', { headers: { 'x-user': 'bob' } });
  assert.equal(await ws.next(), 'o');
  assert.deepEqual(s.conns.map((c) => c.locals.user), ['alice', 'bob']);
  assert.ok(Object.isFrozen(s.conns[0]!.locals));
  ws.close();
  await s.close();
});

test('info: origins lists the configured patterns; JSESSIONID is SameSite=None; Secure behind HTTPS', async () => {
  const s = await startService({ origins: ['https://*.example.com'], cookie_needed: true });
  const info = JSON.parse((await GET(s.url + '/info')).body) as { origins: string[] };
  assert.deepEqual(info.origins, ['https://*.example.com']);
  const plain = await POST(sessionUrl(s.url) + '/xhr');
  assert.equal(plain.headers['set-cookie']?.[0], 'JSESSIONID=dummy; path=/');
  const proxied = await POST(sessionUrl(s.url) + '/xhr', { headers: { 'X-Forwarded-Proto': 'https' } });
  assert.equal(proxied.headers['set-cookie']?.[0], 'JSESSIONID=dummy; path=/; SameSite=None; Secure');
  await s.close();
});

test('broadcast: counts connections over their high-water mark, which queue the message', async () => {
  const s = await startService({ high_water_mark: 10, max_buffered_bytes: 10_000 });
  await POST(sessionUrl(s.url) + '/xhr');
  assert.equal(s.conns[0]!.write('x'.repeat(50)), false);
  assert.equal(s.r.broadcast('more'), 1);
  await s.close();
});

test("connection: 'data' reaches one listener, several, and once() listeners, in order", async () => {
  const s = await startService();
  const got = s.nextConnection();
  const ws = new WsClient(s.url.replace('http', 'ws') + '/000/x/websocket');
  await ws.opened;
  assert.equal(await ws.next(), 'o');
  const c = await got;
  const seen: string[] = [];
  c.on('data', (m) => seen.push('a:' + m));
  ws.ws.send('["1"]');
  await waitUntil(() => seen.length >= 1, "the first 'data'");
  c.once('data', (m) => seen.push('once:' + m));
  c.on('data', (m) => seen.push('b:' + m));
  ws.ws.send('["2","3"]');
  await waitUntil(() => seen.length >= 6, "six 'data' calls");
  assert.deepEqual(seen, ['a:1', 'a:2', 'once:2', 'b:2', 'a:3', 'b:3']);
  ws.ws.close();
  await s.close();
});

test("connection: with EventEmitter.captureRejections a 'data' listener's rejection becomes 'error'", async () => {
  const before = EventEmitter.captureRejections;
  EventEmitter.captureRejections = true;
  try {
    const s = await startService();
    const got = s.nextConnection();
    const ws = new WsClient(s.url.replace('http', 'ws') + '/000/x/websocket');
    await ws.opened;
    const c = await got;
    const errors: Error[] = [];
    (c as EventEmitter).on('error', (err: Error) => errors.push(err));
    c.on('data', async (m) => {
      throw new Error('listener failed on ' + m);
    });
    ws.ws.send('["boom"]');
    await waitUntil(() => errors.length >= 1, "the listener's 'error'");
    assert.equal(errors[0]!.message, 'listener failed on boom');
    ws.ws.close();
    await s.close();
  } finally {
    EventEmitter.captureRejections = before;
  }
});

test('batching: a lone websocket session gets the first message of a burst at once and the rest in one frame; with other sessions waiting, one frame', async () => {
  const s = await startService();
  const url = s.url.replace('http', 'ws');
  const got = s.nextConnection();
  const a = new WsClient(url + '/000/a/websocket');
  assert.equal(await a.next(), 'o');
  const ca = await got;
  const got2 = s.nextConnection();
  const b = new WsClient(url + '/000/b/websocket');
  assert.equal(await b.next(), 'o');
  const cb = await got2;

  // a was flushed last and nothing else waits: its first reply is not held for the rest.
  ca.write('warm');
  assert.equal(await a.next(), 'a["warm"]');
  ca.write('x');
  ca.write('y');
  ca.write('z');
  assert.equal(await a.next(), 'a["x"]');
  assert.equal(await a.next(), 'a["y","z"]');

  // Another session is waiting to be flushed in the same tick: the burst is one frame.
  cb.write('q');
  ca.write('1');
  ca.write('2');
  ca.write('3');
  assert.equal(await b.next(), 'a["q"]');
  assert.equal(await a.next(), 'a["1","2","3"]');
  a.ws.close();
  b.ws.close();
  await s.close();
});

test('batching: what a websocket message\'s handler writes back leaves once its socket read is handled, in one frame; a room\'s messages wait for the end of the turn', async () => {
  const s = await startService();
  const got = s.nextConnection();
  const a = new WsClient(s.url.replace('http', 'ws') + '/000/a/websocket');
  assert.equal(await a.next(), 'o');
  const c = await got;
  c.join('room');
  // Read after the handler returned and the socket read that brought the message was handled,
  // before the end of the turn: what is still queued.
  const left: number[] = [];
  c.on('data', (m) => {
    if (m === 'room') s.r.to('room').send('to all');
    else if (m === 'both') {
      c.write('mine');
      s.r.to('room').send('shared');
    } else {
      c.write('re:' + m);
      c.write('again:' + m);
    }
    process.nextTick(() => process.nextTick(() => left.push(c.bufferedAmount)));
  });
  a.ws.send('["q"]');
  assert.equal(await a.next(), 'a["re:q","again:q"]');
  a.ws.send('["room"]');
  assert.equal(await a.next(), 'a["to all"]');
  a.ws.send('["both"]');
  assert.equal(await a.next(), 'a["mine","shared"]');
  assert.deepEqual(left.map((n) => n > 0), [false, true, false]);
  a.ws.close();
  await s.close();
});

test('websocket: messages with escaped quotes or other escapes arrive as JSON.parse reads the payload', async () => {
  const s = await startService();
  const got = s.nextConnection();
  const a = new WsClient(s.url.replace('http', 'ws') + '/000/a/websocket');
  assert.equal(await a.next(), 'o');
  const c = await got;
  const seen: string[] = [];
  c.on('data', (m) => seen.push(m));
  const payloads = ['["{\\"id\\":1,\\"op\\":\\"add\\"}"]', '["\\""]', '["a\\\\\\"b"]', '["a\\\\b"]', '["\\"x\\n\\""]', '["é\\"€"]', '["a","b\\""]'];
  for (const p of payloads) a.ws.send(p);
  const want = payloads.flatMap((p) => JSON.parse(p) as string[]);
  await waitUntil(() => seen.length >= want.length, 'every message');
  assert.deepEqual(seen, want);
  // A payload whose closing quote is escaped is not a string: the session ends as for any broken frame.
  a.ws.send('["abc\\"]');
  await a.closed;
  assert.equal(a.closeCode, 1002);
  await s.close();
});

test('connection: ip and ips are Express\'s req.ip and req.ips, trust proxy honoured, over xhr and websocket; verify sees them too', async () => {
  for (const trust of [false, 'loopback'] as const) {
    const app = express();
    if (trust !== false) app.set('trust proxy', trust);
    const seen: (string | undefined)[] = [];
    const r = sockjs({
      disconnect_delay: 200,
      verify: (req) => {
        seen.push(req.ip);
        return true;
      },
    });
    app.use('/svc', r);
    const server = http.createServer(app);
    r.attach(server);
    await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/svc`;
    try {
      // A client behind a proxy at 127.0.0.1 that claims 10.9.9.9 to it; the proxy saw 203.0.113.7.
      const forwarded = { 'X-Forwarded-For': '10.9.9.9, 203.0.113.7' };
      const viaXhr = nextConnection(r);
      assert.equal((await POST(sessionUrl(url) + '/xhr', { headers: forwarded })).body, 'o\n');
      const viaWs = nextConnection(r);
      const ws = new WsClient(url.replace('http', 'ws') + '/websocket', { headers: forwarded });
      await ws.opened;
      for (const c of [await viaXhr, await viaWs]) {
        assert.equal(c.remoteAddress, '127.0.0.1');
        if (trust === false) {
          // Without trust proxy the header is the client's word and is not used.
          assert.equal(c.ip, '127.0.0.1', c.protocol);
          assert.deepEqual(c.ips, [], c.protocol);
        } else {
          // Only the loopback proxy is trusted: the address it reports, not what the client claimed.
          assert.equal(c.ip, '203.0.113.7', c.protocol);
          assert.deepEqual(c.ips, ['203.0.113.7'], c.protocol);
        }
      }
      assert.deepEqual(seen, trust === false ? ['127.0.0.1', '127.0.0.1'] : ['203.0.113.7', '203.0.113.7']);
      ws.ws.close();
    } finally {
      await r.close();
      server.closeAllConnections();
      await new Promise<void>((res) => server.close(() => res()));
    }
  }
});

test('connection: outside Express (plain Connect) ip is the peer address and ips is empty', async () => {
  const app = connect();
  const r = sockjs();
  app.use('/svc', r as unknown as connect.NextHandleFunction);
  const server = http.createServer(app);
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/svc`;
  try {
    const opened = nextConnection(r);
    await POST(sessionUrl(url) + '/xhr', { headers: { 'X-Forwarded-For': '10.9.9.9' } });
    const c = await opened;
    assert.equal(c.ip, '127.0.0.1');
    assert.deepEqual(c.ips, []);
  } finally {
    await r.close();
    server.closeAllConnections();
    await new Promise<void>((res) => server.close(() => res()));
  }
});
