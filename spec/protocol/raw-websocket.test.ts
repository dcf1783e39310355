/** The raw websocket endpoint (`/websocket`): plain messages both ways, no SockJS framing. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { WsClient } from '../support/client.js';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { stopServer } from './helpers.js';

let srv: TestServer;
before(async () => {
  srv = await startTestServer();
});
after(async () => {
  await stopServer(srv);
});

test('raw websocket: no open frame; text is echoed exactly, U+FFFF included', async () => {
  const ws = new WsClient(srv.url.replace('http:', 'ws:') + '/echo/websocket');
  await ws.opened;
  ws.send('Hello world!\uffff');
  assert.equal(await ws.next(), 'Hello world!\uffff');
  ws.send('["not", "framed"]');
  assert.equal(await ws.next(), '["not", "framed"]');
  ws.close();
  await ws.closed;
});

test('raw websocket: a server-side close is a websocket close with code 3000 and reason "Go away!", no message', async () => {
  const ws = new WsClient(srv.url.replace('http:', 'ws:') + '/close/websocket');
  assert.equal(await ws.next(), null);
  assert.equal(ws.closeCode, 3000);
  assert.equal(ws.closeReason, 'Go away!');
});
