/**
 * Heartbeats and the disconnect timeout. The protocol's defaults (25 s, 5 s) are configurable, so
 * this file starts the test server with short delays to see both happen.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { POST, Stream, WsClient, sessionUrl } from '../support/client.js';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { Reader, heldRequest, stopServer } from './helpers.js';

let srv: TestServer;
before(async () => {
  // disconnect_delay is the time a polling test may take between two requests: 300 ms proved too
  // little on a loaded 2-core machine (the session timed out between two polls). The timeout test
  // waits for the 'close' event, not for a fixed time.
  srv = await startTestServer(0, '127.0.0.1', { heartbeat_delay: 200, disconnect_delay: 2000 });
});
after(async () => {
  await stopServer(srv);
});

test('heartbeat: an idle streaming receiver is sent "h" frames', async () => {
  const url = sessionUrl(srv.url + '/echo');
  const r = new Reader(new Stream('POST', url + '/xhr_streaming'));
  assert.equal(await r.until('\n'), 'h'.repeat(2048) + '\n');
  assert.equal(await r.until('\n'), 'o\n');
  assert.equal(await r.until('\n', 5000), 'h\n');
  assert.equal(await r.until('\n', 5000), 'h\n');
  r.close();
});

test('heartbeat: an idle waiting poll is answered with "h", and the session stays usable', async () => {
  const url = sessionUrl(srv.url + '/echo');
  assert.equal((await POST(url + '/xhr')).body, 'o\n');
  const held = await heldRequest(srv.services.echo!, 'POST', url + '/xhr');
  assert.equal(await held.rest(5000), 'h\n');
  assert.equal((await POST(url + '/xhr_send', { body: '["a"]' })).status, 204);
  assert.equal((await POST(url + '/xhr')).body, 'a["a"]\n');
});

test('heartbeat: an idle websocket is sent "h" frames', async () => {
  const ws = new WsClient(sessionUrl(srv.url.replace('http:', 'ws:') + '/echo') + '/websocket');
  assert.equal(await ws.next(), 'o');
  assert.equal(await ws.next(5000), 'h');
  ws.close();
  await ws.closed;
});

test('timeout: a session left without a receiver for disconnect_delay ends; the next poll does not resume it (new "o", or a close frame)', async () => {
  const echo = srv.services.echo!;
  const url = sessionUrl(srv.url + '/echo');
  const closed = new Promise<void>((resolve) => echo.once('connection', (c) => c.once('close', () => resolve())));
  assert.equal((await POST(url + '/xhr')).body, 'o\n');
  // No receiver from here on: the application is told the session ended.
  await closed;
  const r = await POST(url + '/xhr');
  assert.equal(r.status, 200);
  assert.ok(r.body === 'o\n' || /^c\[\d+,"[^"]*"\]\n$/.test(r.body), 'a new session or a close frame, got ' + JSON.stringify(r.body));
});
