/** Every counter of router.stats and the Prometheus output, driven by real sessions. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { prometheusText, type SockJSRouter } from '../../lib/index.js';
import { GET, POST, Stream, WsClient, sessionUrl } from '../support/client.js';
import { startService } from '../support/service.js';
import { waitUntil } from '../support/wait.js';

const echo = (r: SockJSRouter): void => {
  r.on('connection', (c) => c.on('data', (m) => c.write(m)));
};

test('stats: sessions_active and transp_* count open sessions per transport, as sockjs-tornado', async () => {
  const s = await startService({}, echo);
  const ws = new WsClient(sessionUrl(s.url.replace('http', 'ws')) + '/websocket');
  await ws.next();
  const raw = new WsClient(s.url.replace('http', 'ws') + '/websocket');
  await raw.opened;
  const st = new Stream('POST', sessionUrl(s.url) + '/xhr_streaming');
  await st.readChars(2051);
  const es = new Stream('GET', sessionUrl(s.url) + '/eventsource');
  await es.readChars(13);
  const hf = new Stream('GET', sessionUrl(s.url) + '/htmlfile?c=cb');
  await hf.read();
  await POST(sessionUrl(s.url) + '/xhr');
  await GET(sessionUrl(s.url) + '/jsonp?c=cb');
  await waitUntil(() => s.r.stats.dump().connections_active <= 5, 'the answered polls to detach');
  const d = s.r.stats.dump();
  assert.equal(d.sessions_active, 7);
  assert.deepEqual(
    [d.transp_websocket, d.transp_rawwebsocket, d.transp_xhr_streaming, d.transp_eventsource, d.transp_htmlfile, d.transp_xhr, d.transp_jsonp],
    [1, 1, 1, 1, 1, 1, 1],
  );
  assert.equal(d.sessions_opened_total, 7);
  assert.equal(d.sessions_opened.websocket, 1);
  // Attached right now: 2 websockets + 3 streams (the polls were answered).
  assert.equal(d.connections_active, 5);
  assert.equal(d.connections_total, 7);
  ws.close();
  raw.close();
  st.close();
  es.close();
  hf.close();
  await waitUntil(() => {
    const closed = s.r.stats.dump().sessions_closed;
    return closed.client + closed.interrupted >= 5;
  }, 'the five sessions to close');
  const after = s.r.stats.dump();
  assert.equal(after.transp_websocket, 0);
  assert.equal(after.connections_active, 0);
  assert.equal(after.sessions_closed.client, 2);
  assert.equal(after.sessions_closed.interrupted, 3);
  await s.close();
});

test('stats: message and byte totals per direction and transport', async () => {
  const s = await startService({}, echo);
  const ws = new WsClient(sessionUrl(s.url.replace('http', 'ws')) + '/websocket');
  assert.equal(await ws.next(), 'o');
  ws.send('["ab","\u00e9"]');
  assert.equal(await ws.next(), 'a["ab","\u00e9"]');
  const d = s.r.stats.dump();
  assert.equal(d.messages_in.websocket, 2);
  assert.equal(d.messages_out.websocket, 2);
  assert.equal(d.bytes_in.websocket, Buffer.byteLength('["ab","\u00e9"]'));
  // 'o' (1 byte) and the echo frame.
  assert.equal(d.bytes_out.websocket, 1 + Buffer.byteLength('a["ab","\u00e9"]'));
  const base = sessionUrl(s.url);
  await POST(base + '/xhr');
  await POST(base + '/xhr_send', { body: '["x","y","z"]' });
  await POST(base + '/xhr');
  const d2 = s.r.stats.dump();
  assert.equal(d2.messages_in['xhr-polling'], 3);
  assert.equal(d2.messages_out['xhr-polling'], 3);
  assert.equal(d2.bytes_in['xhr-polling'], 13);
  assert.equal(d2.bytes_out['xhr-polling'], 2 + Buffer.byteLength('a["x","y","z"]\n'));
  assert.equal(d2.messages_in_total, 5);
  assert.equal(d2.messages_out_total, 5);
  ws.close();
  await s.close();
});

test('stats: sessions closed by reason: client, server, timeout, interrupted, limit, shutdown', async () => {
  const s = await startService({ disconnect_delay: 200, max_message_size: 64 }, (r) => {
    r.on('connection', (c) => c.on('data', (m) => (m === 'close' ? c.close() : c.write(m))));
  });
  // client: the websocket closes
  const a = new WsClient(sessionUrl(s.url.replace('http', 'ws')) + '/websocket');
  await a.next();
  a.close();
  await a.closed;
  // server: conn.close()
  const b = new WsClient(sessionUrl(s.url.replace('http', 'ws')) + '/websocket');
  await b.next();
  b.send('["close"]');
  await b.closed;
  // timeout: a polling client that never comes back (disconnect_delay 200 ms)
  await POST(sessionUrl(s.url) + '/xhr');
  // interrupted: an aborted stream
  const st = new Stream('POST', sessionUrl(s.url) + '/xhr_streaming');
  await st.readChars(2051);
  st.close();
  // limit: a websocket message over max_message_size
  const c = new WsClient(sessionUrl(s.url.replace('http', 'ws')) + '/websocket');
  await c.next();
  c.send(JSON.stringify(['x'.repeat(100)]));
  await c.closed;
  await waitUntil(() => Object.values(s.r.stats.dump().sessions_closed).reduce((a, b) => a + b) >= 5, 'five sessions closed, the polling one by timeout');
  // shutdown: close() with one open session
  const d = new WsClient(sessionUrl(s.url.replace('http', 'ws')) + '/websocket');
  await d.next();
  await s.r.close();
  const closed = s.r.stats.dump().sessions_closed;
  assert.deepEqual(closed, { client: 1, server: 1, timeout: 1, interrupted: 1, limit: 1, shutdown: 1 });
  await s.close();
});

test('stats: buffered_bytes sums what open sessions hold for their clients', async () => {
  let conn: import('../../lib/index.js').Connection | undefined;
  const s = await startService({}, (r) => r.on('connection', (c) => (conn = c)));
  await POST(sessionUrl(s.url) + '/xhr');
  conn!.write('x'.repeat(1000));
  conn!.write('y');
  // Quoted: 1000 x's and two quotes, then "y".
  assert.equal(s.r.stats.buffered_bytes, 1002 + 3);
  assert.equal(s.r.stats.dump().buffered_bytes, conn!.bufferedAmount);
  await s.close();
});

test('stats: per-second rates (connections_ps, packets_sent_ps, packets_recv_ps) are 10 s moving averages', async (t) => {
  t.mock.timers.enable({ apis: ['setInterval'] });
  const s = await startService({}, echo);
  const base = sessionUrl(s.url);
  await POST(base + '/xhr');
  await POST(base + '/xhr_send', { body: '["1","2","3","4"]' });
  await POST(base + '/xhr');
  t.mock.timers.tick(1000);
  const d = s.r.stats.dump();
  assert.equal(d.packets_recv_ps, 4);
  assert.equal(d.packets_sent_ps, 4);
  assert.equal(d.connections_ps, 2);
  t.mock.timers.tick(1000);
  // One busy second and one idle second average to half.
  assert.equal(s.r.stats.packets_recv_ps, 2);
  t.mock.timers.reset();
  await s.close();
});

test('metrics: the Prometheus endpoint serves well-formed text with the documented families', async () => {
  const s = await startService({}, (r, app) => {
    echo(r);
    app.get('/metrics', r.metrics());
  });
  const base = sessionUrl(s.url);
  await POST(base + '/xhr');
  const r = await GET(s.root + '/metrics');
  assert.equal(r.status, 200);
  assert.equal(r.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8');
  for (const family of ['sockjs_sessions_active', 'sockjs_sessions_opened_total', 'sockjs_sessions_closed_total', 'sockjs_messages_total', 'sockjs_bytes_total', 'sockjs_connections_active', 'sockjs_connections_total', 'sockjs_buffered_bytes']) {
    assert.match(r.body, new RegExp(`^# TYPE ${family} (gauge|counter)$`, 'm'));
  }
  assert.match(r.body, /^sockjs_sessions_active\{service="\/svc",transport="xhr-polling"\} 1$/m);
  // Every sample line is `name{labels} number`.
  for (const line of r.body.split('\n').filter((l) => l && !l.startsWith('#'))) {
    assert.match(line, /^[a-z_]+\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\} \d+(\.\d+)?$/);
  }
  assert.match(prometheusText({ 'a"b': s.r }), /service="a\\"b"/);
  await s.close();
});
