/**
 * sockjs-express/nestjs in a real Nest application (spec/nestjs/app.ts): gateways' handlers,
 * answers, exceptions, guards, pipes, interceptors, lifecycle hooks and rooms, driven by the real
 * sockjs-client (npm, in Node) over websocket, xhr-streaming and xhr-polling.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Connection, SockJSRouter } from '../../lib/index.js';
import { GET, WsClient, sessionUrl } from '../support/client.js';
import { Inbox } from '../support/inbox.js';
import { SockJS, type ClientSock } from '../support/sockjs-client.js';
import { fixture, type Fixture } from './fixture.js';


interface Reply {
  event: string;
  data: unknown;
}

/** A sockjs-client socket that speaks the gateway's `{event, data}` messages. */
class GatewayClient {
  private readonly inbox = new Inbox<unknown>();
  closedWith: { code: number; reason: string } | null = null;
  readonly closed: Promise<{ code: number; reason: string }>;

  private constructor(readonly sock: ClientSock) {
    sock.onmessage = (e) => this.inbox.push(JSON.parse(e.data));
    this.closed = new Promise((resolve) => {
      sock.onclose = (e) => {
        this.closedWith = { code: e.code, reason: e.reason };
        resolve(this.closedWith);
      };
    });
  }

  static open(url: string, transport: string): Promise<GatewayClient> {
    return new Promise((resolve, reject) => {
      // sockjs-client gives a transport a few round trips of the /info RTT to open; on a saturated
      // machine that is too short (2000 "All transports failed"), so a floor of 10 s.
      const sock = new SockJS(url, null, { transports: [transport], timeout: 10_000 });
      sock.onopen = () => resolve(new GatewayClient(sock));
      sock.onclose = (e) => reject(new Error(`closed before open: ${e.code} ${e.reason}`));
    });
  }

  emit(event: string, data?: unknown): void {
    this.sock.send(JSON.stringify({ event, data }));
  }

  /** The next message from the server, parsed. */
  next(ms = 15_000): Promise<unknown> {
    return this.inbox.next(ms, () => new Error('no message from the gateway within ' + ms + ' ms'));
  }

  /** Sends one event and resolves with the next message. */
  async ask(event: string, data?: unknown): Promise<unknown> {
    this.emit(event, data);
    return this.next();
  }

  async close(): Promise<void> {
    this.sock.close();
    await this.closed;
  }
}

/** Resolves with the next 'disconnect' hook call for `conn`. */
function disconnected(conn: Connection): Promise<string | undefined> {
  return new Promise((resolve) => {
    const on = (c: Connection, reason?: string): void => {
      if (c !== conn) return;
      fixture.hooks.off('disconnect', on);
      resolve(reason);
    };
    fixture.hooks.on('disconnect', on);
  });
}

const TRANSPORTS = ['websocket', 'xhr-streaming', 'xhr-polling'];

describe('sockjs-express/nestjs: a Nest application on SockJSAdapter', () => {
  let app: Awaited<ReturnType<Fixture['startApp']>>['app'];
  let base = '';
  const inits = new Map<string, SockJSRouter>();

  before(async () => {
    const onInit = (name: string, server: SockJSRouter): void => void inits.set(name, server);
    fixture.hooks.on('init', onInit);
    ({ app, base } = await fixture.startApp());
    fixture.hooks.off('init', onInit);
  });
  after(async () => {
    await app?.close();
  });

  test('each path is one sockjs() service on Nest\'s server; afterInit gets it; options are the adapter\'s with the gateway\'s over them', async () => {
    const chat = inits.get('chat');
    const fallback = inits.get('default');
    assert.ok(chat !== undefined && fallback !== undefined, 'afterInit ran for both gateways');
    assert.notEqual(chat, fallback);
    assert.equal(chat.config.disconnect_delay, 1000, 'the gateway option');
    assert.equal(chat.config.heartbeat_delay, 10_000, 'the adapter option');
    assert.equal(fallback.config.heartbeat_delay, 10_000);
    assert.equal(fallback.config.disconnect_delay, 5000, 'the default');
    for (const path of ['/chat', '/ws']) {
      const info = await GET(base + path + '/info');
      assert.equal(info.status, 200, path);
      assert.match(info.body, /^\{"websocket":true,/);
    }
    // Nest's own routes and its 404 are where they were.
    assert.equal((await GET(base + '/hello')).body, 'hello from Nest');
    assert.equal((await GET(base + '/nowhere')).status, 404);
    assert.equal((await GET(base + '/sockjs/info')).status, 404, 'the adapter default was overridden');
  });

  test('middleware in front (Nest\'s app.use) sees the gateway\'s websocket handshakes and HTTP requests', async () => {
    const denied = new WsClient(sessionUrl(base.replace(/^http/, 'ws') + '/chat') + '/websocket', { headers: { 'x-deny': '1' } });
    await assert.rejects(denied.opened, /unexpected response 403/);
    assert.equal((await GET(base + '/chat/info', { headers: { 'x-deny': '1' } })).status, 403);
    assert.equal((await GET(base + '/chat/info')).status, 200);
  });

  test('the wire: {event, data} in one SockJS message, the answer as its JSON (raw websocket)', async () => {
    const ws = new WsClient(sessionUrl(base.replace(/^http/, 'ws') + '/chat') + '/websocket');
    assert.equal(await ws.next(), 'o');
    ws.send(JSON.stringify([JSON.stringify({ event: 'echo', data: { n: 1, s: 'é"' } })]));
    assert.equal(await ws.next(), 'a' + JSON.stringify([JSON.stringify({ event: 'echo', data: { n: 1, s: 'é"' } })]));
    // Not JSON, no event, an event no gateway has, an array: nothing comes back, nothing breaks.
    ws.send(JSON.stringify(['not json', '{"data":1}', '{"event":"nope","data":1}', '[1,2]', 'null', '{"event":"ping"}']));
    ws.send(JSON.stringify([JSON.stringify({ event: 'plain', data: 'after the bad ones' })]));
    assert.equal(await ws.next(), 'a' + JSON.stringify([JSON.stringify('after the bad ones')]));
    ws.close();
    await ws.closed;
  });

  for (const transport of TRANSPORTS) {
    describe(`over ${transport} (sockjs-client)`, () => {
      test('handlers answer: {event,data}, a plain value, a Promise, every value of an Observable; null answers nothing', async () => {
        const c = await GatewayClient.open(base + '/chat', transport);
        assert.equal(c.sock.transport, transport);
        assert.deepEqual(await c.ask('echo', { hello: ['world', 1, null] }), { event: 'echo', data: { hello: ['world', 1, null] } });
        assert.deepEqual(await c.ask('plain', 'just this'), 'just this');
        assert.deepEqual(await c.ask('plain', 42), 42);
        assert.deepEqual(await c.ask('later', 30), { event: 'later', data: 30 });
        c.emit('count', 3);
        assert.deepEqual([await c.next(), await c.next(), await c.next()], [1, 2, 3].map((data) => ({ event: 'count', data })));
        // No answer for undefined: the next message is the echo sent after it.
        c.emit('nothing');
        c.emit('plain', null);
        assert.deepEqual(await c.ask('echo', 'after nothing'), { event: 'echo', data: 'after nothing' });
        // Answers come as they are ready, as in Nest's ws adapter: the quick one overtakes.
        c.emit('later', 300);
        assert.deepEqual(await c.ask('echo', 'quick'), { event: 'echo', data: 'quick' });
        assert.deepEqual(await c.next(), { event: 'later', data: 300 });
        await c.close();
      });

      test('WsException and other errors reach the client as an "exception" event; guards, pipes and interceptors apply', async () => {
        const c = await GatewayClient.open(base + '/chat', transport);
        assert.deepEqual(await c.ask('fail', 'not allowed'), {
          event: 'exception',
          data: { status: 'error', message: 'not allowed', cause: { pattern: 'fail', data: 'not allowed' } },
        });
        // An object given to WsException is the whole payload.
        assert.deepEqual(await c.ask('failObject'), { event: 'exception', data: { code: 'E42', text: 'details' } });
        const crash = (await c.ask('crash')) as Reply;
        assert.equal(crash.event, 'exception');
        assert.deepEqual((crash.data as { status: string; message: string }).message, 'Internal server error');

        const denied = (await c.ask('secret', { token: 'wrong' })) as Reply;
        assert.equal(denied.event, 'exception');
        assert.equal((denied.data as { message: string }).message, 'Forbidden resource');
        assert.deepEqual(await c.ask('secret', { token: 'secret' }), { event: 'secret', data: 'the secret' });

        assert.deepEqual(await c.ask('shout', 'quiet words'), { event: 'shout', data: 'QUIET WORDS' });
        const refused = (await c.ask('shout', 7)) as Reply;
        assert.equal(refused.event, 'exception');
        assert.equal((refused.data as { message: string }).message, 'text must be a string');

        assert.deepEqual(await c.ask('wrap', [1, 2]), { event: 'wrapped', data: [1, 2] });
        // The session is still fine after all that.
        assert.deepEqual(await c.ask('echo', 'still here'), { event: 'echo', data: 'still here' });
        await c.close();
      });

      test('handleConnection and handleDisconnect get the Connection; @ConnectedSocket() is that Connection', async () => {
        const connected = once(fixture.hooks, 'connection') as Promise<[Connection]>;
        const c = await GatewayClient.open(base + '/chat', transport);
        const [conn] = await connected;
        assert.equal(conn.protocol, transport);
        assert.deepEqual(await c.ask('whoami'), { event: 'whoami', data: { id: conn.id, protocol: transport } });
        const gone = disconnected(conn);
        await c.close();
        // A websocket closes cleanly; sockjs-client ends an HTTP transport by dropping its request.
        assert.equal(await gone, transport === 'websocket' ? '1000' : '1002 Connection interrupted');
      });

      test('two gateways on one path share the service; the default path serves gateways without one', async () => {
        const c = await GatewayClient.open(base + '/chat', transport);
        const online = (await c.ask('online')) as Reply;
        assert.equal(online.event, 'online');
        assert.ok(typeof online.data === 'number' && online.data >= 1);
        const d = await GatewayClient.open(base + '/ws', transport);
        assert.deepEqual(await d.ask('ping'), { event: 'pong', data: 'pong' });
        // /chat's events are not /ws's: the echo goes unanswered there, the ping is answered.
        d.emit('echo', 'wrong path');
        assert.deepEqual(await d.ask('ping'), { event: 'pong', data: 'pong' });
        await Promise.all([c.close(), d.close()]);
      });
    });
  }

  test('rooms and broadcast from the gateway reach clients on every transport', async () => {
    const clients = await Promise.all(TRANSPORTS.map((t) => GatewayClient.open(base + '/chat', t)));
    const [ws, streaming, polling] = clients as [GatewayClient, GatewayClient, GatewayClient];
    assert.deepEqual(await ws.ask('join', 'lobby'), { event: 'joined', data: 'lobby' });
    assert.deepEqual(await polling.ask('join', 'lobby'), { event: 'joined', data: 'lobby' });
    assert.deepEqual(await streaming.ask('say', { room: 'lobby', text: 'hi lobby' }), { event: 'sent', data: 2 });
    assert.deepEqual(await ws.next(), { event: 'said', data: 'hi lobby' });
    assert.deepEqual(await polling.next(), { event: 'said', data: 'hi lobby' });
    streaming.emit('shoutAll', 'to everyone');
    for (const c of clients) assert.deepEqual(await c.next(), { event: 'all', data: 'to everyone' });
    // The streaming client was never in the lobby: its next message is the echo it asks for.
    assert.deepEqual(await streaming.ask('echo', 'not in the lobby'), { event: 'echo', data: 'not in the lobby' });
    await Promise.all(clients.map((c) => c.close()));
  });
});

test('sockjs-express/nestjs: app.close() closes every gateway session (1001) and the hooks see it', async () => {
  const { app, base } = await fixture.startApp();
  const conns: Connection[] = [];
  const onConn = (c: Connection): void => void conns.push(c);
  fixture.hooks.on('connection', onConn);
  try {
    const clients = await Promise.all(TRANSPORTS.map((t) => GatewayClient.open(base + '/chat', t)));
    // The connection hook runs as the session opens; the client may hear 'o' first.
    for (const c of clients) assert.deepEqual(await c.ask('echo', 1), { event: 'echo', data: 1 });
    assert.equal(conns.length, 3);
    const gone = Promise.all(conns.map((c) => disconnected(c)));
    await app.close();
    for (const c of clients) assert.deepEqual(await c.closed, { code: 1001, reason: 'Server is shutting down' });
    assert.deepEqual(await gone, conns.map(() => '1001 Server is shutting down'));
  } finally {
    fixture.hooks.off('connection', onConn);
  }
});

test('sockjs-express/nestjs: a gateway with a port of its own is served on that port, beside Nest\'s', async () => {
  const probe = createServer();
  await new Promise<void>((done) => probe.listen(0, '127.0.0.1', done));
  const port = (probe.address() as AddressInfo).port;
  await new Promise((done) => probe.close(done));
  const { app, base } = await fixture.startAppWithGatewayPort(port);
  try {
    assert.equal((await GET(base + '/side/info')).status, 404, 'not on Nest\'s port');
    for (const transport of TRANSPORTS) {
      const c = await GatewayClient.open(`http://127.0.0.1:${port}/side`, transport);
      assert.deepEqual(await c.ask('where'), { event: 'here', data: '/side' });
      await c.close();
    }
  } finally {
    await app.close();
  }
  // dispose() stopped that server with the application.
  await assert.rejects(GET(`http://127.0.0.1:${port}/side/info`), /ECONNREFUSED/);
});
