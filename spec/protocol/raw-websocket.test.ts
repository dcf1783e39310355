/** The raw websocket endpoint (`/websocket`): plain messages both ways, no SockJS framing. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WsClient } from '../support/client.js';
import { serverForFile } from './helpers.js';

const srv = serverForFile();

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
