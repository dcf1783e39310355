/**
 * The `compression` option: permessage-deflate negotiated with a `ws` client that offers it,
 * messages round-trip in order (short, long, bursts; framed and raw), frames from the threshold
 * on are deflated on the wire (measured through a proxy), and off by default.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { WsClient, sessionUrl } from '../support/client.js';
import { TcpProxy } from '../support/proxy.js';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { stopServer } from '../protocol/helpers.js';
import sockjs from '../../lib/index.js';

let on: TestServer;
let off: TestServer;
let proxy: TcpProxy;

before(async () => {
  on = await startTestServer(0, '127.0.0.1', { compression: { threshold: 1024 } });
  off = await startTestServer(0, '127.0.0.1');
  proxy = await TcpProxy.start(on.port);
});
after(async () => {
  await proxy.close();
  await stopServer(on);
  await stopServer(off);
});

const wsBase = (port: number): string => `ws://127.0.0.1:${port}/echo`;

test('compression: off by default, even when the client offers permessage-deflate', async () => {
  const ws = new WsClient(sessionUrl(wsBase(off.port)) + '/websocket', { perMessageDeflate: true });
  assert.equal(await ws.next(), 'o');
  assert.equal(ws.ws.extensions, '');
  ws.close();
  await ws.closed;
});

test('compression: negotiated on a framed websocket; short, long and bursts of messages round-trip in order', async () => {
  const ws = new WsClient(sessionUrl(wsBase(on.port)) + '/websocket');
  assert.equal(await ws.next(), 'o');
  assert.match(ws.ws.extensions, /^permessage-deflate/);
  // Long messages are echoed by the server's echo shortcut when uncompressed: here they must go
  // through ws's compressing writer, and stay in order with the short ones around them.
  // A long message that needs escaping (deflated by zlib, off the main thread) followed at once
  // by a long plain one (the echo shortcut's case) is where order would break.
  const messages = ['hi', 'é€😀'.repeat(400), 'x'.repeat(70_000), 'short', 'q"uote\\'.repeat(20_000), 'w'.repeat(70_000), 'end'];
  // Sent uncompressed, so that they arrive together (inflating would space them out).
  for (const m of messages) ws.ws.send(JSON.stringify([m]), { compress: false });
  const got: string[] = [];
  while (got.length < messages.length) {
    const frame = (await ws.next())!;
    assert.equal(frame[0], 'a');
    got.push(...(JSON.parse(frame.slice(1)) as string[]));
  }
  assert.deepEqual(got, messages);
  ws.close();
  await ws.closed;
});

test('compression: negotiated on a raw websocket; relayed messages round-trip in order', async () => {
  const ws = new WsClient(wsBase(on.port) + '/websocket');
  await ws.opened;
  assert.match(ws.ws.extensions, /^permessage-deflate/);
  const messages = ['a', 'b'.repeat(5000), 'c', 'd'.repeat(100_000)];
  for (const m of messages) ws.send(m);
  for (const m of messages) assert.equal(await ws.next(), m);
  ws.close();
  await ws.closed;
});

test('compression: frames from the threshold on are deflated on the wire, shorter ones are not', async () => {
  const linked = proxy.nextConnection();
  const ws = new WsClient(wsBase(proxy.port) + '/websocket');
  await ws.opened;
  const link = await linked;
  const echoBytes = async (m: string): Promise<number> => {
    const before = link.forwarded.toClient;
    ws.send(m);
    assert.equal(await ws.next(), m);
    return link.forwarded.toClient - before;
  };
  // 'y' x 1000 is under the 1024-byte threshold: sent as is.
  assert.ok((await echoBytes('y'.repeat(1000))) >= 1000);
  // 'z' x 50 000 deflates to a few hundred bytes.
  const long = await echoBytes('z'.repeat(50_000));
  assert.ok(long < 1000, `50 000 bytes went out as ${long}`);
  ws.close();
  await ws.closed;
});

test('compression: validated like every option', () => {
  assert.equal(sockjs().config.compression, null);
  assert.equal(sockjs({ compression: true }).config.compression?.threshold, 1024);
  assert.throws(() => sockjs({ compression: 'yes' as never }), /option "compression" must be true, false or an object/);
  assert.throws(() => sockjs({ compression: { level: 10 } }), /option "compression.level" must be an integer from 0 to 9 \(got 10\)/);
  assert.throws(() => sockjs({ compression: { threshold: -1 } }), /option "compression.threshold" must be an integer from 0/);
  assert.throws(() => sockjs({ compression: { server_max_window_bits: 7 } }), /"compression.server_max_window_bits" must be an integer from 8 to 15/);
  assert.throws(() => sockjs({ compression: { server_no_context_takeover: 1 as never } }), /"compression.server_no_context_takeover" must be true or false/);
  assert.throws(() => sockjs({ compression: { windowBits: 9 } as never }), /option "compression" must be an object with only threshold, level/);
});
