/**
 * The real `sockjs-client` (npm) in Node, driving every transport it has outside a browser:
 * websocket, xhr-streaming, xhr-polling and eventsource.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { NODE_TRANSPORTS, SockJS, closed, collect, open, type ClientSock } from '../support/sockjs-client.js';

describe('sockjs-client (npm) in Node', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startTestServer();
  });
  after(async () => {
    await srv.close();
  });

  for (const transport of NODE_TRANSPORTS) {
    test(`${transport}: opens, reports the forced transport, echoes tricky text and 300 messages in order`, async () => {
      const sock = await open(srv.url + '/echo', transport);
      assert.equal(sock.transport, transport);
      const tricky = ['', 'a', '\u0000\u001f"\\', '\u2028\u2029\ufeff\ufff0\uffff', '\u{1F600}', '["a","b"]', 'x'.repeat(100_000)];
      const echoed = collect(sock, tricky.length);
      for (const m of tricky) sock.send(m);
      assert.deepEqual(await echoed, tricky);
      const burst = Array.from({ length: 300 }, (_, i) => 'm' + i);
      const got = collect(sock, burst.length);
      for (const m of burst) sock.send(m);
      assert.deepEqual(await got, burst);
      const done = closed(sock);
      sock.close();
      assert.equal((await done).code, 1000);
    });

    test(`${transport}: a server-initiated close reaches the client with code 3000 "Go away!"`, async () => {
      const sock = await open(srv.url + '/close', transport);
      const e = await closed(sock);
      assert.deepEqual(e, { code: 3000, reason: 'Go away!' });
    });

    test(`${transport}: the cookie_needed service works`, async () => {
      const sock = await open(srv.url + '/cookie_needed_echo', transport);
      const got = collect(sock, 1);
      sock.send('hello');
      assert.deepEqual(await got, ['hello']);
      sock.close();
    });
  }

  test('websocket disabled: the client falls back to a streaming transport and still echoes', async () => {
    const sock = await new Promise<ClientSock>((resolve, reject) => {
      const s = new SockJS(srv.url + '/disabled_websocket_echo', null, { transports: ['websocket', 'xhr-streaming'], timeout: 10_000 });
      s.onopen = () => resolve(s);
      s.onclose = (e) => reject(new Error('closed ' + e.code));
    });
    assert.equal(sock.transport, 'xhr-streaming');
    const got = collect(sock, 1);
    sock.send('fallback');
    assert.deepEqual(await got, ['fallback']);
    sock.close();
  });
});
