/**
 * The `ws` migration adapter: one handler written for a `ws` 8 WebSocketServer runs unchanged on
 * a real ws server and on sockjsWebSocketServer(router), over sockjs-client and the raw protocol.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import express from 'express';
import { createRequire } from 'node:module';
import WebSocket, { WebSocketServer } from 'ws';
import {
  multiplex,
  sockjsWebSocketServer,
  wsAdapter,
  SockJSWebSocket,
  SockJSWebSocketServer,
  type SockJSOptions,
} from '../../lib/index.js';
import { SockJS, type ClientSock } from '../support/sockjs-client.js';
import { POST, WsClient, sessionUrl, sleep } from '../support/client.js';
import { startService, type TestService } from '../support/service.js';
import { waitUntil } from '../support/wait.js';

const require = createRequire(import.meta.url);

// ---- the application under migration, written against ws 8 -------------------------------------

interface WsLike {
  readonly readyState: number;
  readonly OPEN: number;
  readonly protocol: string;
  readonly bufferedAmount: number;
  send(data: string, cb?: (err?: Error) => void): void;
  close(code?: number, reason?: string): void;
  terminate(): void;
  ping(): void;
  on(event: 'message', listener: (data: Buffer, isBinary: boolean) => void): unknown;
  on(event: 'close', listener: (code: number, reason: Buffer) => void): unknown;
  on(event: 'pong', listener: () => void): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
}
interface ReqLike {
  url?: string;
  headers: Record<string, string | string[] | undefined>;
  socket: { remoteAddress?: string };
}
interface WssLike {
  clients: Set<unknown>;
  on(event: 'connection', listener: (ws: WsLike, req: ReqLike) => void): unknown;
}

/** The ws app: an uppercasing echo with a few commands. Not a line of it knows about SockJS. */
function chatApp(wss: WssLike, log: { closes: { code: number; reason: string; buffer: boolean }[] }): void {
  wss.on('connection', (ws, req) => {
    const ip = req.socket.remoteAddress;
    let alive = true;
    ws.on('pong', () => {
      alive = true;
      ws.send('pong ' + alive);
    });
    ws.on('error', () => {});
    ws.on('message', (data, isBinary) => {
      const text = data.toString();
      if (text === 'json') {
        ws.send(JSON.stringify({ isBuffer: Buffer.isBuffer(data), isBinary, ip, ua: req.headers['user-agent'], open: ws.readyState === ws.OPEN, protocol: ws.protocol, clients: wss.clients.size }));
      } else if (text === 'ping') {
        alive = false;
        ws.ping();
      } else if (text === 'close') {
        ws.close(4001, 'requested');
      } else {
        ws.send(text.toUpperCase(), (err) => {
          if (err) ws.terminate();
        });
      }
    });
    ws.on('close', (code, reason) => log.closes.push({ code, reason: reason.toString(), buffer: Buffer.isBuffer(reason) }));
    ws.send('welcome');
  });
}

// ---- clients ---------------------------------------------------------------------------------

/** A message-queue view over either client kind. */
interface Peer {
  next(): Promise<string>;
  send(m: string): void;
  closed: Promise<{ code: number; reason: string }>;
  close(): void;
}

function sockjsPeer(url: string, transport: string): Promise<Peer> {
  return new Promise((resolve, reject) => {
    const sock = new SockJS(url, null, { transports: [transport], timeout: 10_000 });
    const inbox: string[] = [];
    const waiters: ((m: string) => void)[] = [];
    let closedResolve!: (e: { code: number; reason: string }) => void;
    const closed = new Promise<{ code: number; reason: string }>((r) => (closedResolve = r));
    sock.onmessage = (e) => {
      const w = waiters.shift();
      if (w) w(e.data);
      else inbox.push(e.data);
    };
    sock.onclose = (e) => {
      closedResolve({ code: e.code, reason: e.reason });
      reject(new Error(`closed before open: ${e.code}`));
    };
    sock.onopen = () =>
      resolve({
        next: () => (inbox.length > 0 ? Promise.resolve(inbox.shift()!) : new Promise((r) => waiters.push(r))),
        send: (m) => sock.send(m),
        closed,
        close: () => sock.close(),
      });
  });
}

async function wsPeer(url: string): Promise<Peer> {
  const c = new WsClient(url, { headers: { 'User-Agent': 'peer' } });
  await c.opened;
  return {
    next: async () => (await c.next()) ?? '<closed>',
    send: (m) => c.send(m),
    closed: c.closed.then(() => ({ code: c.closeCode ?? 0, reason: c.closeReason })),
    close: () => c.close(),
  };
}

/** The same conversation, whatever the server and the client. */
async function converse(peer: Peer, log: { closes: { code: number; reason: string; buffer: boolean }[] }): Promise<void> {
  assert.equal(await peer.next(), 'welcome');
  peer.send('hello, world');
  assert.equal(await peer.next(), 'HELLO, WORLD');
  peer.send('json');
  const info = JSON.parse(await peer.next()) as Record<string, unknown>;
  assert.equal(info.isBuffer, true);
  assert.equal(info.isBinary, false);
  assert.equal(info.ip, '127.0.0.1');
  assert.equal(info.open, true);
  assert.equal(info.protocol, '');
  assert.ok((info.clients as number) >= 1);
  peer.send('ping');
  assert.equal(await peer.next(), 'pong true');
  peer.send('\u00e9\u{1F600}');
  assert.equal(await peer.next(), '\u00c9\u{1F600}');
  const before = log.closes.length;
  peer.send('close');
  assert.deepEqual(await peer.closed, { code: 4001, reason: 'requested' });
  await waitUntil(() => log.closes.length > before, "the handler's 'close'");
  assert.deepEqual(log.closes.at(-1), { code: 4001, reason: 'requested', buffer: true });
}

describe('one ws handler, unchanged, on ws and on SockJS', () => {
  test('on a real ws WebSocketServer (the reference behaviour)', async () => {
    const server = http.createServer();
    const wss = new WebSocketServer({ server });
    const log = { closes: [] as { code: number; reason: string; buffer: boolean }[] };
    chatApp(wss as unknown as WssLike, log);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      await converse(await wsPeer(`ws://127.0.0.1:${(server.address() as { port: number }).port}/`), log);
    } finally {
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  let s: TestService;
  let url: string;
  const log = { closes: [] as { code: number; reason: string; buffer: boolean }[] };
  before(async () => {
    s = await startService({}, (router) => {
      // The one-line change: `new WebSocketServer({ server })` becomes this.
      const wss = sockjsWebSocketServer(router);
      chatApp(wss as unknown as WssLike, log);
    });
    url = s.url;
  });
  after(() => s.close());

  for (const transport of ['websocket', 'xhr-streaming', 'xhr-polling', 'eventsource']) {
    test(`on sockjsWebSocketServer(router), sockjs-client ${transport}`, async () => {
      await converse(await sockjsPeer(url, transport), log);
    });
  }

  test('on sockjsWebSocketServer(router), a plain ws client on the raw /websocket endpoint', async () => {
    await converse(await wsPeer(url.replace('http', 'ws') + '/websocket'), log);
  });
});

// ---- the adapter's API -------------------------------------------------------------------------

async function rig(opts: SockJSOptions = {}) {
  const sockets: SockJSWebSocket[] = [];
  let wss!: SockJSWebSocketServer;
  const s = await startService({ disconnect_delay: 300, ...opts }, (router) => {
    wss = sockjsWebSocketServer(router);
    wss.on('connection', (ws) => sockets.push(ws));
  });
  const nextSocket = (): Promise<SockJSWebSocket> => new Promise((r) => wss.once('connection', (ws) => r(ws)));
  return { router: s.r, wss, url: s.url, sockets, nextSocket, close: () => s.close() };
}

describe('SockJSWebSocket', () => {
  let r: Awaited<ReturnType<typeof rig>>;
  before(async () => {
    r = await rig({ max_message_size: 100 });
  });
  after(() => r.close());

  test('constants (static and instance), protocol, extensions, binaryType, readyState, bufferedAmount, the same object per connection', async () => {
    assert.deepEqual([SockJSWebSocket.CONNECTING, SockJSWebSocket.OPEN, SockJSWebSocket.CLOSING, SockJSWebSocket.CLOSED], [0, 1, 2, 3]);
    assert.deepEqual([WebSocket.CONNECTING, WebSocket.OPEN, WebSocket.CLOSING, WebSocket.CLOSED], [0, 1, 2, 3]);
    const got = r.nextSocket();
    const base = sessionUrl(r.url);
    await POST(base + '/xhr');
    const ws = await got;
    assert.deepEqual([ws.CONNECTING, ws.OPEN, ws.CLOSING, ws.CLOSED], [0, 1, 2, 3]);
    assert.equal(ws.readyState, ws.OPEN);
    assert.equal(ws.protocol, '');
    assert.equal(ws.extensions, '');
    assert.equal(ws.binaryType, 'nodebuffer');
    assert.equal(ws.bufferedAmount, 0);
    ws.send('queued');
    assert.ok(ws.bufferedAmount > 0, 'no poll is waiting: the message is buffered');
    assert.equal(wsAdapter(ws.connection), ws);
    assert.ok(r.wss.clients.has(ws));
    assert.equal(String(ws), `<SockJSWebSocket ${ws.connection.id}>`);
    ws.close();
    assert.equal(ws.readyState, ws.CLOSED);
    assert.equal(r.wss.clients.has(ws), false);
  });

  test('send(): strings, numbers and binary data go as text; after close the callback gets an error and nothing throws', async () => {
    const got = r.nextSocket();
    const base = sessionUrl(r.url);
    await POST(base + '/xhr');
    const ws = await got;
    const cbs: (Error | undefined)[] = [];
    ws.send('a', (err) => cbs.push(err));
    ws.send(7, { binary: true });
    ws.send(Buffer.from('buf'));
    ws.send(new Uint16Array([0x6968]));
    ws.send(new TextEncoder().encode('u8').buffer);
    assert.equal((await POST(base + '/xhr')).body, 'a["a","7","buf","hi","u8"]\n');
    assert.deepEqual([...cbs], [undefined]);
    assert.throws(() => ws.send({} as never), TypeError);
    ws.close(1000);
    ws.send('late', (err) => cbs.push(err));
    ws.send('late');
    await waitUntil(() => cbs.length >= 2, "the late send's callback");
    assert.match(String(cbs[1]), /WebSocket is not open: readyState 3 \(CLOSED\)/);
  });

  test('close(): code and reason checked as ws checks them; the client gets them in the close frame', async () => {
    const got = r.nextSocket();
    const base = sessionUrl(r.url);
    await POST(base + '/xhr');
    const ws = await got;
    assert.throws(() => ws.close(1005), TypeError);
    assert.throws(() => ws.close(2000), TypeError);
    assert.throws(() => ws.close(1000, 'x'.repeat(124)), RangeError);
    const closes: [number, string][] = [];
    ws.on('close', (code, reason) => closes.push([code, reason.toString()]));
    ws.close(4000, Buffer.from('buffer reason'));
    ws.close(4001, 'ignored: already closed');
    assert.equal((await POST(base + '/xhr')).body, 'c[4000,"buffer reason"]\n');
    assert.deepEqual(closes, [[4000, 'buffer reason']]);
  });

  test("terminate(): 'close' reports 1006; the client is told", async () => {
    const got = r.nextSocket();
    const base = sessionUrl(r.url);
    await POST(base + '/xhr');
    const ws = await got;
    const closed = new Promise<number>((res) => ws.once('close', (code) => res(code)));
    ws.terminate();
    assert.equal(await closed, 1006);
    assert.equal((await POST(base + '/xhr')).body, 'c[1006,"Connection terminated"]\n');
    ws.terminate();
  });

  test("ping() answers with 'pong' while open; after close its callback gets an error", async () => {
    const got = r.nextSocket();
    const base = sessionUrl(r.url);
    await POST(base + '/xhr');
    const ws = await got;
    const pong = new Promise<Buffer>((res) => ws.once('pong', res));
    let cbErr: Error | undefined | null = null;
    ws.ping('data', false, (err) => (cbErr = err));
    assert.equal((await pong).toString(), 'data');
    assert.equal(cbErr as unknown, undefined);
    ws.pong();
    ws.close();
    const after = new Promise<Error | undefined>((res) => ws.ping(undefined, undefined, res));
    assert.match(String(await after), /not open/);
  });

  test('pause() holds incoming messages until resume(), in order', async () => {
    const got = r.nextSocket();
    const base = sessionUrl(r.url);
    await POST(base + '/xhr');
    const ws = await got;
    const seen: string[] = [];
    ws.on('message', (d, isBinary) => {
      assert.equal(isBinary, false);
      seen.push(d.toString());
      if (d.toString() === 'b') ws.pause();
    });
    ws.pause();
    assert.equal(ws.isPaused, true);
    await POST(base + '/xhr_send', { body: '["a","b","c"]' });
    assert.deepEqual(seen, []);
    ws.resume();
    assert.deepEqual(seen, ['a', 'b']);
    assert.equal(ws.isPaused, true);
    await POST(base + '/xhr_send', { body: '["d"]' });
    ws.resume();
    assert.deepEqual(seen, ['a', 'b', 'c', 'd']);
    ws.close();
  });

  test("a message over max_message_size: 'error' (WS_ERR_UNSUPPORTED_MESSAGE_LENGTH), then 'close' 1009, as in ws", async () => {
    const got = r.nextSocket();
    const c = new WsClient(sessionUrl(r.url.replace('http', 'ws')) + '/websocket');
    assert.equal(await c.next(), 'o');
    const ws = await got;
    const events: string[] = [];
    ws.on('error', (err) => events.push('error ' + (err as Error & { code?: string }).code));
    ws.on('close', (code) => events.push('close ' + code));
    c.send(JSON.stringify(['x'.repeat(200)]));
    await c.closed;
    assert.deepEqual(events, ['error WS_ERR_UNSUPPORTED_MESSAGE_LENGTH', 'close 1009']);
  });

  test('a closed connection: no error event without listeners (nothing crashes)', async () => {
    const got = r.nextSocket();
    const c = new WsClient(sessionUrl(r.url.replace('http', 'ws')) + '/websocket');
    assert.equal(await c.next(), 'o');
    const ws = await got;
    const closed = new Promise<number>((res) => ws.once('close', res));
    c.send(JSON.stringify(['x'.repeat(200)]));
    assert.equal(await closed, 1009);
  });

  test('wsAdapter() rejects what is not a connection', () => {
    assert.throws(() => wsAdapter(null as never), TypeError);
    assert.throws(() => wsAdapter({} as never), TypeError);
    assert.throws(() => sockjsWebSocketServer({} as never), TypeError);
  });
});

describe('SockJSWebSocketServer', () => {
  test('close(): emits close and calls back; later connections are refused with 1001, open ones stay (as ws 8)', async () => {
    const r = await rig();
    try {
      const first = r.nextSocket();
      const open = await sockjsPeer(r.url, 'websocket');
      const ws = await first;
      let closeEvents = 0;
      r.wss.on('close', () => closeEvents++);
      await new Promise<void>((res, rej) => r.wss.close((err) => (err ? rej(err) : res())));
      assert.equal(closeEvents, 1);
      await new Promise<void>((res) => r.wss.close((err) => (assert.ok(err), res())));
      const late = await sockjsPeer(r.url, 'websocket');
      assert.deepEqual(await late.closed, { code: 1001, reason: 'Server is shutting down' });
      ws.send('still here');
      assert.equal(await open.next(), 'still here');
      open.close();
      assert.ok(r.wss instanceof SockJSWebSocketServer);
    } finally {
      await r.close();
    }
  });

  test('the request-like argument: method, url, headers (no cookies), socket address', async () => {
    const r = await rig();
    try {
      const got = new Promise<[SockJSWebSocket, { method: string; url: string; headers: Record<string, string | undefined>; socket: { remoteAddress?: string; remotePort?: number } }]>((res) =>
        r.wss.once('connection', (ws, req) => res([ws, req])),
      );
      const base = sessionUrl(r.url);
      await POST(base + '/xhr?token=t', { headers: { 'User-Agent': 'ua', Cookie: 'secret=1' } });
      const [ws, req] = await got;
      assert.equal(req.method, 'GET');
      assert.equal(req.url, new URL(base).pathname + '/xhr?token=t');
      assert.equal(req.headers['user-agent'], 'ua');
      assert.equal(req.headers.cookie, undefined);
      assert.equal(req.socket.remoteAddress, '127.0.0.1');
      assert.equal(typeof req.socket.remotePort, 'number');
      assert.ok(Object.isFrozen(req));
      ws.close();
    } finally {
      await r.close();
    }
  });

  test('over a multiplexed channel: sockjsWebSocketServer(mux.channel(name)) gives ws-shaped channel connections', async () => {
    const log = { closes: [] as { code: number; reason: string; buffer: boolean }[] };
    const s = await startService({}, (router) => {
      const mux = multiplex(router);
      chatApp(sockjsWebSocketServer(mux.channel('chat')) as unknown as WssLike, log);
    });
    const conns = s.conns;
    const url = s.ws + '/websocket';
    try {
      const c = new WsClient(url);
      await c.opened;
      c.send('sub,chat');
      assert.equal(await c.next(), 'msg,chat,welcome');
      c.send('msg,chat,shout, please');
      assert.equal(await c.next(), 'msg,chat,SHOUT, PLEASE');
      c.send('msg,chat,close');
      assert.equal(await c.next(), 'uns,chat');
      await waitUntil(() => log.closes.length >= 1, "the channel's 'close'");
      assert.deepEqual(log.closes, [{ code: 4001, reason: 'requested', buffer: true }]);
      assert.equal(conns[0]!.readyState, 1, 'the underlying connection stays open');
      c.close();
    } finally {
      await s.close();
    }
  });
});
