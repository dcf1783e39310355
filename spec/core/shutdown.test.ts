/**
 * What clients see while `router.close()` runs and after: `/info` answers 503 with Retry-After,
 * so sockjs-client gives up at once instead of trying every transport; open sessions still get
 * their close frame.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { createRequire } from 'node:module';
import express from 'express';
import sockjs from '../../lib/index.js';
import { GET, POST, WsClient, request, sessionUrl } from '../support/client.js';

const require = createRequire(import.meta.url);
interface ClientSock {
  onopen: (() => void) | null;
  onclose: ((e: { code: number; reason: string }) => void) | null;
}
type SockJSCtor = new (url: string, protocols: null, opts: { transports: string[] }) => ClientSock;
const SockJS = require('sockjs-client') as SockJSCtor;

async function service() {
  const app = express();
  const paths: string[] = [];
  app.use((req, _res, next) => {
    paths.push(req.path);
    next();
  });
  // disconnect_delay long enough that close() is still running during the test.
  const r = sockjs({ disconnect_delay: 30_000 });
  app.use('/svc', r);
  const server = http.createServer(app);
  r.attach(server);
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/svc`;
  return {
    r,
    url,
    paths,
    stop() {
      server.closeAllConnections();
      return new Promise<void>((res) => server.close(() => res()));
    },
  };
}

test('shutdown: while close() runs and after, /info is 503 with Retry-After and CORS; open sessions still get their close frame', async () => {
  const s = await service();
  assert.equal((await GET(s.url + '/info')).status, 200);
  const ws = new WsClient(sessionUrl(s.url.replace('http', 'ws')) + '/websocket');
  assert.equal(await ws.next(), 'o');
  // A polling session that never comes back keeps close() waiting (for disconnect_delay).
  const polling = sessionUrl(s.url);
  assert.equal((await POST(polling + '/xhr')).body, 'o\n');
  let done = false;
  const closing = s.r.close().then(() => (done = true));
  assert.equal(await ws.next(), 'c[1001,"Server is shutting down"]');

  const during = await GET(s.url + '/info', { headers: { Origin: 'https://app.example' } });
  assert.equal(done, false, 'close() is still running');
  assert.equal(during.status, 503);
  assert.equal(during.headers['retry-after'], '1');
  assert.equal(during.body, 'This SockJS service is shutting down.');
  assert.equal(during.headers['access-control-allow-origin'], 'https://app.example');
  assert.match(String(during.headers['cache-control']), /no-store/);
  assert.equal((await request('HEAD', s.url + '/info')).status, 503);

  // The poller comes back, is told, and close() resolves; /info stays 503.
  assert.equal((await POST(polling + '/xhr')).body, 'c[1001,"Server is shutting down"]\n');
  await closing;
  const afterwards = await GET(s.url + '/info');
  assert.equal(afterwards.status, 503);
  assert.equal(afterwards.headers['retry-after'], '1');
  await s.stop();
});

test('shutdown: sockjs-client (npm) gives up at once on the 503 /info, without trying any transport', async () => {
  const s = await service();
  await s.r.close();
  s.paths.length = 0;
  const t0 = Date.now();
  const ended = await new Promise<{ code: number; reason: string }>((resolve, reject) => {
    const sock = new SockJS(s.url, null, { transports: ['websocket', 'xhr-streaming', 'xhr-polling'] });
    sock.onopen = () => reject(new Error('opened'));
    sock.onclose = (e) => resolve({ code: e.code, reason: e.reason });
  });
  assert.equal(ended.code, 1002);
  assert.equal(ended.reason, 'Cannot connect to server');
  assert.ok(Date.now() - t0 < 2000, 'without waiting for transport timeouts');
  assert.deepEqual(s.paths, ['/svc/info']);
  await s.stop();
});
