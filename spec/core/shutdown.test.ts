/**
 * What clients see while `router.close()` runs and after: `/info` answers 503 with Retry-After,
 * so sockjs-client gives up at once instead of trying every transport; open sessions still get
 * their close frame.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { createRequire } from 'node:module';
import { GET, POST, WsClient, request, sessionUrl } from '../support/client.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

const require = createRequire(import.meta.url);
interface ClientSock {
  onopen: (() => void) | null;
  onclose: ((e: { code: number; reason: string }) => void) | null;
}
type SockJSCtor = new (url: string, protocols: null, opts: { transports: string[]; timeout?: number }) => ClientSock;
const SockJS = require('sockjs-client') as SockJSCtor;

/** A test server whose close() waits long for polling clients; it records every request path. */
async function server(): Promise<{ srv: TestServer; paths: string[] }> {
  const srv = await startTestServer(0, '127.0.0.1', { disconnect_delay: 30_000 });
  const paths: string[] = [];
  const record = (req: http.IncomingMessage): void => {
    paths.push(req.url ?? '');
  };
  srv.server.on('request', record);
  srv.server.on('upgrade', record);
  return { srv, paths };
}

test('shutdown: while close() runs and after, /info is 503 with Retry-After and CORS; open sessions still get their close frame', async () => {
  const { srv } = await server();
  const s = { r: srv.services.echo!, url: srv.url + '/echo' };
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
  await srv.close();
});

test('shutdown: sockjs-client (npm) gives up at once on the 503 /info, without trying any transport', async () => {
  const { srv, paths } = await server();
  const url = srv.url + '/echo';
  await srv.services.echo!.close();
  paths.length = 0;
  const t0 = Date.now();
  const ended = await new Promise<{ code: number; reason: string }>((resolve, reject) => {
    const sock = new SockJS(url, null, { transports: ['websocket', 'xhr-streaming', 'xhr-polling'], timeout: 10_000 });
    sock.onopen = () => reject(new Error('opened'));
    sock.onclose = (e) => resolve({ code: e.code, reason: e.reason });
  });
  assert.equal(ended.code, 1002);
  assert.equal(ended.reason, 'Cannot connect to server');
  assert.ok(Date.now() - t0 < 2000, 'without waiting for transport timeouts');
  assert.equal(paths.length, 1);
  // (Express has taken the mount path off the URL by the time a later listener sees it.)
  assert.match(paths[0]!, /\/info(\?|$)/);
  await srv.close();
});
