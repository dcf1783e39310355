/**
 * `sockjs-express/compat`: sockjs-node's API. Runs sockjs-node's documented echo example and its
 * standard test-server wiring (several services installHandlers'd on one plain http.Server)
 * against this implementation, over real sockets, with a raw client and with sockjs-client.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { Duplex } from 'node:stream';
import express from 'express';
import { WebSocketServer } from 'ws';
import sockjs from '../../lib/index.js';
import sockjsCompat, { createServer, listen, MultiplexServer, SockJSConnection, SockJSServer, type ServerOptions } from '../../lib/compat.js';
import { NODE_TRANSPORTS, closed, collect, open } from '../support/sockjs-client.js';
import { GET, POST, Stream, WsClient, rawExchange, sessionUrl } from '../support/client.js';
import { waitUntil } from '../support/wait.js';

async function listenOn(server: http.Server): Promise<string> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}

async function shut(server: http.Server, ...services: SockJSServer[]): Promise<void> {
  await Promise.all(services.map((s) => s.close()));
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
}

function upgradeRequest(path: string): string {
  return `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n';
}

describe("sockjs-node's echo example, unchanged but for the require", () => {
  let server: http.Server;
  let echo: SockJSServer;
  let url: string;
  before(async () => {
    // From sockjs-node's README (0.3): createServer(), installHandlers(server, {prefix}), listen.
    const sockjs = sockjsCompat;
    echo = sockjs.createServer({ sockjs_url: 'http://cdn.jsdelivr.net/sockjs/1/sockjs.min.js' });
    echo.on('connection', function (conn) {
      conn.on('data', function (message) {
        conn.write(message);
      });
      conn.on('close', function () {});
    });
    server = http.createServer();
    echo.installHandlers(server, { prefix: '/echo' });
    url = await listenOn(server);
  });
  after(() => shut(server, echo));

  for (const transport of NODE_TRANSPORTS) {
    test(`sockjs-client ${transport}: echoes, in order, and closes cleanly`, async () => {
      const sock = await open(url + '/echo', transport);
      assert.equal(sock.transport, transport);
      const msgs = ['', 'a', 'comma,separated', '\u2028\u{1F600}"\\', 'x'.repeat(50_000)];
      const got = collect(sock, msgs.length);
      for (const m of msgs) sock.send(m);
      assert.deepEqual(await got, msgs);
      const done = closed(sock);
      sock.close();
      assert.equal((await done).code, 1000);
    });
  }

  test('raw protocol: greeting, info, xhr session, websocket, raw websocket; paths outside the prefix are not served', async () => {
    assert.equal((await GET(url + '/echo')).body, 'Welcome to SockJS!\n');
    assert.equal((await GET(url + '/echo/')).body, 'Welcome to SockJS!\n');
    const info = JSON.parse((await GET(url + '/echo/info')).body) as { websocket: boolean };
    assert.equal(info.websocket, true);
    const base = sessionUrl(url + '/echo');
    assert.equal((await POST(base + '/xhr')).body, 'o\n');
    assert.equal((await POST(base + '/xhr_send', { body: '["a","b"]' })).status, 204);
    assert.equal((await POST(base + '/xhr')).body, 'a["a","b"]\n');
    const ws = new WsClient(sessionUrl(url.replace('http', 'ws') + '/echo') + '/websocket');
    assert.equal(await ws.next(), 'o');
    ws.send('["hi"]');
    assert.equal(await ws.next(), 'a["hi"]');
    ws.close();
    const raw = new WsClient(url.replace('http', 'ws') + '/echo/websocket');
    await raw.opened;
    raw.send('raw');
    assert.equal(await raw.next(), 'raw');
    raw.close();
    // Not under /echo: nobody else listens, so a 404 rather than a hanging request.
    assert.equal((await GET(url + '/echoes')).status, 404);
    assert.equal((await GET(url + '/')).status, 404);
  });
});

describe("sockjs-node 0.4's README example: createServer({ prefix }) and attach(server)", () => {
  test('echo over websocket and xhr-polling; listen() does the same in one call', async () => {
    const echo = createServer({ prefix: '/echo' });
    echo.on('connection', (conn) => conn.on('data', (m) => conn.write(m)));
    const server = http.createServer();
    echo.attach(server);
    echo.attach(server); // once per server
    const url = await listenOn(server);
    const other = http.createServer();
    const viaListen = listen(other, { prefix: '/l' });
    viaListen.on('connection', (conn) => conn.on('data', (m) => conn.write('l:' + m)));
    const otherUrl = await listenOn(other);
    try {
      for (const t of ['websocket', 'xhr-polling']) {
        const sock = await open(url + '/echo', t);
        const got = collect(sock, 1);
        sock.send('hi');
        assert.deepEqual(await got, ['hi']);
        sock.close();
      }
      const sock = await open(otherUrl + '/l', 'websocket');
      const got = collect(sock, 1);
      sock.send('x');
      assert.deepEqual(await got, ['l:x']);
      sock.close();
      assert.equal(echo.options.prefix, '/echo');
    } finally {
      await shut(server, echo);
      await shut(other, viaListen);
    }
  });
});

describe("sockjs-node's test server wiring: several services on one http.Server", () => {
  let server: http.Server;
  let services: SockJSServer[];
  let url: string;
  before(async () => {
    // As sockjs-node's examples/test_server: a 404 'request' listener and an 'upgrade' listener that
    // ends the socket come first; each service then installs its handlers for its prefix.
    server = http.createServer();
    server.addListener('request', (_req, res) => {
      res.setHeader('content-type', 'text/plain');
      res.writeHead(404);
      res.end('404 - Nothing here (via sockjs-node test_server)');
    });
    server.addListener('upgrade', (_req, socket: Duplex) => socket.end());
    const opts: ServerOptions = { sockjs_url: 'http://localhost:8080/lib/sockjs.js', websocket: true };
    const sjsEcho = createServer(opts);
    sjsEcho.on('connection', (conn) => {
      conn.on('close', () => {});
      conn.on('data', (m) => conn.write(m));
    });
    const sjsClose = createServer(opts);
    sjsClose.on('connection', (conn) => conn.close(3000, 'Go away!'));
    const sjsTicker = createServer(opts);
    sjsTicker.on('connection', (conn) => {
      const tref = setInterval(() => conn.write('tick!'), 200);
      conn.on('close', () => clearInterval(tref));
    });
    const broadcast: Record<string, SockJSConnection> = {};
    const sjsBroadcast = createServer(opts);
    sjsBroadcast.on('connection', (conn) => {
      broadcast[conn.id] = conn;
      conn.on('close', () => delete broadcast[conn.id]);
      conn.on('data', (m) => {
        for (const id in broadcast) broadcast[id]!.write(m);
      });
    });
    const sjsAmplify = createServer(opts);
    sjsAmplify.on('connection', (conn) => {
      conn.on('data', (m) => {
        let n = Math.floor(Number(m));
        n = n > 0 && n < 19 ? n : 1;
        conn.write('x'.repeat(2 ** n));
      });
    });
    sjsEcho.installHandlers(server, { prefix: '/echo', response_limit: 4096 });
    sjsEcho.installHandlers(server, { prefix: '/disabled_websocket_echo', websocket: false });
    sjsEcho.installHandlers(server, { prefix: '/cookie_needed_echo', jsessionid: true });
    sjsClose.installHandlers(server, { prefix: '/close' });
    sjsTicker.installHandlers(server, { prefix: '/ticker' });
    sjsAmplify.installHandlers(server, { prefix: '/amplify' });
    sjsBroadcast.installHandlers(server, { prefix: '/broadcast' });
    services = [sjsEcho, sjsClose, sjsTicker, sjsBroadcast, sjsAmplify];
    url = await listenOn(server);
  });
  after(() => shut(server, ...services));

  for (const transport of NODE_TRANSPORTS) {
    test(`sockjs-client ${transport}: echo, close (3000 "Go away!"), cookie_needed_echo, amplify, ticker`, async () => {
      const sock = await open(url + '/echo', transport);
      const burst = Array.from({ length: 100 }, (_, i) => 'm' + i);
      const got = collect(sock, burst.length);
      for (const m of burst) sock.send(m);
      assert.deepEqual(await got, burst);
      sock.close();

      const c = await open(url + '/close', transport);
      assert.deepEqual(await closed(c), { code: 3000, reason: 'Go away!' });

      const cookie = await open(url + '/cookie_needed_echo', transport);
      const back = collect(cookie, 1);
      cookie.send('cookie');
      assert.deepEqual(await back, ['cookie']);
      cookie.close();

      const amp = await open(url + '/amplify', transport);
      const big = collect(amp, 1);
      amp.send('14');
      assert.equal((await big)[0]!.length, 2 ** 14);
      amp.close();

      const tick = await open(url + '/ticker', transport);
      assert.deepEqual(await collect(tick, 2), ['tick!', 'tick!']);
      tick.close();
    });
  }

  test('broadcast reaches every client, whatever their transport', async () => {
    const a = await open(url + '/broadcast', 'websocket');
    const b = await open(url + '/broadcast', 'xhr-streaming');
    const ga = collect(a, 1);
    const gb = collect(b, 1);
    a.send('to all');
    assert.deepEqual(await ga, ['to all']);
    assert.deepEqual(await gb, ['to all']);
    a.close();
    b.close();
  });

  test('disabled_websocket_echo: no websocket (info says so, the endpoint is 404), the client falls back', async () => {
    const info = JSON.parse((await GET(url + '/disabled_websocket_echo/info')).body) as { websocket: boolean };
    assert.equal(info.websocket, false);
    const ws = new WsClient(sessionUrl(url.replace('http', 'ws') + '/disabled_websocket_echo') + '/websocket');
    await assert.rejects(ws.opened, /unexpected response 404/);
    const sock = await open(url + '/disabled_websocket_echo', ['websocket', 'xhr-streaming']);
    assert.equal(sock.transport, 'xhr-streaming');
    const got = collect(sock, 1);
    sock.send('fallback');
    assert.deepEqual(await got, ['fallback']);
    sock.close();
  });

  test('cookie_needed_echo: info says cookie_needed and transports set JSESSIONID', async () => {
    const info = JSON.parse((await GET(url + '/cookie_needed_echo/info')).body) as { cookie_needed: boolean };
    assert.equal(info.cookie_needed, true);
    const r = await POST(sessionUrl(url + '/cookie_needed_echo') + '/xhr');
    assert.equal(r.body, 'o\n');
    assert.deepEqual(r.headers['set-cookie'], ['JSESSIONID=dummy; path=/']);
    assert.equal((await GET(url + '/echo/info')).body.includes('"cookie_needed":false'), true);
  });

  test('response_limit 4096 applies to /echo only: its xhr_streaming response ends after 4 KiB', async () => {
    const base = sessionUrl(url + '/echo');
    const s = new Stream('POST', base + '/xhr_streaming');
    await s.readChars(2049 + 2);
    assert.equal((await POST(base + '/xhr_send', { body: JSON.stringify(['y'.repeat(5000)]) })).status, 204);
    let rest = '';
    for (let c = await s.read(); c !== null; c = await s.read()) rest += c;
    assert.ok(rest.startsWith('a["yyy'), 'the message, then the end of the response');
  });

  test('requests and upgrades outside every prefix go to the listeners the server had', async () => {
    const r = await GET(url + '/nothing');
    assert.equal(r.status, 404);
    assert.equal(r.body, '404 - Nothing here (via sockjs-node test_server)');
    // The original 'upgrade' listener ends such sockets without an answer.
    assert.equal(await rawExchange(Number(new URL(url).port), upgradeRequest('/nothing/websocket')), '');
    // ...while a handshake under a prefix is answered.
    const answer = await rawExchange(Number(new URL(url).port), upgradeRequest('/echo/websocket'), 300);
    assert.match(answer, /^HTTP\/1\.1 101 /);
  });
});

describe('the connection is a sockjs-node connection', () => {
  let server: http.Server;
  let svc: SockJSServer;
  let url: string;
  const conns: SockJSConnection[] = [];
  let onConnection: ((c: SockJSConnection) => void) | null = null;
  before(async () => {
    svc = createServer({ prefix: '/s', disconnect_delay: 500 });
    svc.on('connection', (c) => {
      conns.push(c);
      onConnection?.(c);
    });
    server = http.createServer();
    svc.installHandlers(server);
    url = await listenOn(server);
  });
  after(() => shut(server, svc));

  function next(): Promise<SockJSConnection> {
    return new Promise((resolve) => {
      onConnection = (c) => {
        onConnection = null;
        resolve(c);
      };
    });
  }

  test('properties: id, readyState, protocol, remoteAddress/Port, headers, url, pathname, prefix; a Duplex; toString', async () => {
    const got = next();
    const base = sessionUrl(url + '/s');
    await POST(base + '/xhr?x=1', { headers: { 'User-Agent': 'ua', 'X-Forwarded-For': '10.0.0.1', Cookie: 'a=b' } });
    const c = await got;
    assert.ok(c instanceof Duplex);
    assert.ok(c instanceof SockJSConnection);
    assert.match(c.id, /^[0-9a-f-]{36}$/);
    assert.equal(c.readyState, 1);
    assert.equal(c.protocol, 'xhr-polling');
    assert.equal(c.remoteAddress, '127.0.0.1');
    assert.equal(typeof c.remotePort, 'number');
    assert.equal(c.headers['user-agent'], 'ua');
    assert.equal(c.headers['x-forwarded-for'], '10.0.0.1');
    assert.equal(c.url, new URL(base).pathname + '/xhr?x=1');
    assert.equal(c.pathname, new URL(base).pathname + '/xhr');
    assert.equal(c.prefix, '/s');
    assert.deepEqual({ ...c.cookies }, { a: 'b' });
    assert.deepEqual(c.query, { x: '1' });
    assert.equal(String(c), `<SockJSConnection ${c.id}>`);
    c.close();
  });

  for (const transport of ['websocket', 'xhr-streaming']) {
    test(`${transport}: conn.pipe(conn) echoes (messages stay whole, empty ones too)`, async () => {
      onConnection = (c) => c.pipe(c);
      const sock = await open(url + '/s', transport);
      const msgs = ['one', '', 'three,with,commas', 'x'.repeat(10_000)];
      const got = collect(sock, msgs.length);
      for (const m of msgs) sock.send(m);
      assert.deepEqual(await got, msgs);
      const done = closed(sock);
      sock.close();
      await done;
      onConnection = null;
    });
  }

  test("end(message) sends it, then closes with 1000 \"Normal closure\"; 'close' fires once; writing afterwards returns false and never throws", async () => {
    const got = next();
    const sock = await open(url + '/s', 'websocket');
    const c = await got;
    const events: unknown[][] = [];
    c.on('close', (...args: unknown[]) => events.push(args));
    let ended = false;
    c.on('end', () => (ended = true));
    c.on('data', () => {});
    const msg = collect(sock, 1);
    const done = closed(sock);
    c.end('bye');
    assert.deepEqual(await msg, ['bye']);
    assert.deepEqual(await done, { code: 1000, reason: 'Normal closure' });
    assert.equal(c.readyState, 3);
    assert.equal(c.write('late'), false);
    assert.equal(c.write(null), false);
    c.end('late');
    c.close();
    await waitUntil(() => events.length >= 1 && ended, "'close' and 'end'");
    assert.deepEqual(events, [[1000, 'Normal closure']]);
    assert.equal(ended, true);
    assert.equal(c.writable, false);
  });

  test('close(code, reason) reaches the client; destroy() closes too; write() converts like sockjs-node', async () => {
    let got = next();
    let sock = await open(url + '/s', 'xhr-polling');
    let c = await got;
    const msgs = collect(sock, 4);
    c.write(42);
    c.write(Buffer.from('bytes \u00e9'));
    c.write(true);
    c.write({ toString: () => 'obj' });
    assert.deepEqual(await msgs, ['42', 'bytes \u00e9', 'true', 'obj']);
    let done = closed(sock);
    assert.equal(c.close(3001, 'custom'), true);
    assert.deepEqual(await done, { code: 3001, reason: 'custom' });

    got = next();
    sock = await open(url + '/s', 'websocket');
    c = await got;
    done = closed(sock);
    c.destroy();
    assert.deepEqual(await done, { code: 1000, reason: 'Normal closure' });
    assert.equal(c.readyState, 3);
  });

  test('messages nobody reads are dropped, not buffered; a paused stream keeps them until resumed', async () => {
    const got = next();
    const base = sessionUrl(url + '/s');
    await POST(base + '/xhr');
    const c = await got;
    await POST(base + '/xhr_send', { body: '["lost"]' });
    assert.equal(c.readableLength, 0);
    c.pause();
    await POST(base + '/xhr_send', { body: '["kept1","kept2"]' });
    assert.equal(c.readableLength, 2);
    const seen: string[] = [];
    c.on('data', (m) => seen.push(m));
    c.resume();
    await waitUntil(() => seen.length >= 2, 'the kept messages');
    assert.deepEqual(seen, ['kept1', 'kept2']);
    c.close();
  });

  test("write() returns false past the high-water mark and 'drain' follows", async () => {
    const s2 = createServer({ prefix: '/hw', high_water_mark: 1000, disconnect_delay: 300 });
    const got = new Promise<SockJSConnection>((r) => s2.once('connection', r));
    s2.installHandlers(server);
    const base = sessionUrl(url + '/hw');
    await POST(base + '/xhr');
    const c = await got;
    let n = 0;
    while (c.write('z'.repeat(300))) n++;
    assert.ok(n < 5);
    const drained = new Promise<void>((r) => c.once('drain', r));
    await POST(base + '/xhr');
    await drained;
    await s2.close();
    s2.detach(server);
  });
});

describe('compat options', () => {
  /** A hixie-76 handshake with key3 (the protocol suite's keys); resolves with what came back once the 'o' frame did, or after 5 s. */
  function hixie76(port: number, path: string): Promise<Buffer> {
    return new Promise((resolve) => {
      const sock = net.connect(port, '127.0.0.1');
      let got = Buffer.alloc(0);
      const done = (): void => {
        clearTimeout(t);
        sock.destroy();
        resolve(got);
      };
      const t = setTimeout(done, 5000);
      sock.on('data', (d: Buffer) => {
        got = Buffer.concat([got, d]);
        if (got.includes(HIXIE_OPEN)) done();
      });
      sock.on('close', done);
      sock.on('error', done);
      sock.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: Upgrade\r\nUpgrade: WebSocket\r\n` +
        `Origin: http://127.0.0.1:${port}\r\nSec-WebSocket-Key1: 4 @1  46546xW%0l 1 5\r\nSec-WebSocket-Key2: 12998 5 Y3 1  .P00\r\n\r\naaaaaaaa`);
    });
  }
  const HIXIE_OPEN = Buffer.from([0x00, 0x6f, 0xff]);
  const HIXIE_ANSWER = Buffer.from('ca3400d8a50847972cd5715abab f437b'.replace(/ /g, ''), 'hex');

  test('hixie-76 is answered by default, as sockjs-node (faye-websocket) does; hixie76: false refuses it', async () => {
    for (const [options, served] of [[{}, true], [{ hixie76: false }, false]] as const) {
      const service = createServer({ prefix: '/echo', ...options });
      service.on('connection', (conn) => conn.pipe(conn));
      const server = http.createServer();
      service.installHandlers(server);
      const url = await listenOn(server);
      try {
        const got = await hixie76(Number(new URL(url).port), '/echo/000/hixie/websocket');
        if (served) {
          assert.match(got.toString('latin1'), /^HTTP\/1\.1 101 /);
          assert.ok(got.includes(HIXIE_ANSWER) && got.includes(HIXIE_OPEN), 'the MD5 answer and the open frame');
        } else {
          assert.doesNotMatch(got.toString('latin1'), /^HTTP\/1\.1 101 /);
          assert.ok(!got.includes(HIXIE_OPEN));
        }
      } finally {
        await shut(server, service);
      }
    }
  });

  async function serve(opts: ServerOptions): Promise<{ url: string; done: () => Promise<void> }> {
    const svc = createServer({ disconnect_delay: 300, ...opts });
    svc.on('connection', (c) => c.on('data', (m) => c.write(m)));
    const server = http.createServer();
    svc.installHandlers(server);
    const url = await listenOn(server);
    return { url: url + (opts.prefix ?? ''), done: () => shut(server, svc) };
  }

  test('websocket: false turns off both websocket endpoints', async () => {
    const s = await serve({ prefix: '/p', websocket: false });
    try {
      assert.equal((await GET(sessionUrl(s.url) + '/websocket')).status, 404);
      assert.equal((await GET(s.url + '/websocket')).status, 404);
      assert.equal((await POST(sessionUrl(s.url) + '/xhr')).body, 'o\n');
    } finally {
      await s.done();
    }
  });

  test('transports: only the listed ones are served', async () => {
    const s = await serve({ prefix: '/p', transports: ['xhr-polling', 'websocket'] });
    try {
      assert.equal((await POST(sessionUrl(s.url) + '/xhr')).status, 200);
      assert.equal((await POST(sessionUrl(s.url) + '/xhr_streaming')).status, 404);
      assert.equal((await GET(sessionUrl(s.url) + '/eventsource')).status, 404);
      assert.equal((await GET(sessionUrl(s.url) + '/jsonp?c=x')).status, 404);
      assert.equal((await GET(s.url + '/websocket')).status, 404, 'websocket-raw not listed');
      const sock = await open(s.url, 'websocket');
      sock.close();
    } finally {
      await s.done();
    }
  });

  test('prefix in sockjs-node 0.3 regex form ([/]echo) and with a trailing slash', async () => {
    for (const prefix of ['[/]echo', '/echo/']) {
      const svc = createServer({ disconnect_delay: 300 });
      svc.on('connection', (c) => c.on('data', (m) => c.write(m)));
      const server = http.createServer();
      svc.installHandlers(server, { prefix });
      const url = await listenOn(server);
      try {
        assert.equal((await GET(url + '/echo')).body, 'Welcome to SockJS!\n', prefix);
        assert.equal((await GET(url + '/echo/info')).status, 200, prefix);
        assert.equal((await GET(url + '/echox/info')).status, 404, prefix);
        let prefixSeen = '';
        svc.once('connection', (c) => (prefixSeen = c.prefix));
        await POST(sessionUrl(url + '/echo') + '/xhr');
        assert.equal(prefixSeen, '/echo');
      } finally {
        await shut(server, svc);
      }
    }
  });

  test("log(severity, message) receives the service's log lines; disable_cors and heartbeat_delay pass through", async () => {
    const lines: [string, string][] = [];
    const s = await serve({ prefix: '/p', log: (severity, message) => lines.push([severity, message]), disable_cors: true, heartbeat_delay: 100 });
    try {
      const base = sessionUrl(s.url);
      const r = await POST(base + '/xhr', { headers: { Origin: 'http://a.example' } });
      assert.equal(r.headers['access-control-allow-origin'], undefined);
      assert.ok(lines.some(([sev, msg]) => sev === 'info' && msg === 'session opened'));
      const poll = await POST(base + '/xhr');
      assert.equal(poll.body, 'h\n');
    } finally {
      await s.done();
    }
  });

  test('bad options are TypeErrors at createServer(); faye_server_options is accepted and ignored', () => {
    assert.throws(() => createServer({ websocket: 'no' as never }), /"websocket"/);
    assert.throws(() => createServer({ transports: ['carrier-pigeon' as never] }), /"transports"/);
    assert.throws(() => createServer({ prefix: 5 as never }), /"prefix"/);
    assert.throws(() => createServer({ response_limit: -1 }), /response_limit/);
    assert.throws(() => createServer({ bogus: 1 } as never), /unknown option "bogus"/);
    assert.throws(() => createServer([] as never), TypeError);
    assert.ok(createServer({ faye_server_options: { ping: 10 } }) instanceof SockJSServer);
    assert.throws(() => createServer().installHandlers({} as never), TypeError);
  });

  test('default export: createServer itself, with createServer, listen and Server on it, as require("sockjs")', () => {
    assert.equal(typeof sockjsCompat, 'function');
    assert.ok(sockjsCompat() instanceof SockJSServer);
    assert.equal(sockjsCompat.createServer, createServer);
    assert.equal(sockjsCompat.listen, listen);
    assert.equal(sockjsCompat.Server, SockJSServer);
  });
});

describe('installHandlers alongside other listeners', () => {
  test('an Express app on the same server keeps its routes, and a ws server on another path keeps its websockets', async () => {
    const app = express();
    app.get('/hello', (_req, res) => res.send('hello from express'));
    const server = http.createServer(app);
    const wss = new WebSocketServer({ server, path: '/ws' });
    wss.on('connection', (ws) => ws.on('message', (d) => ws.send('ws:' + d.toString())));
    const svc = createServer({ prefix: '/sock' });
    svc.on('connection', (c) => c.on('data', (m) => c.write('sockjs:' + m)));
    svc.installHandlers(server);
    const url = await listenOn(server);
    try {
      assert.equal((await GET(url + '/hello')).body, 'hello from express');
      assert.equal((await GET(url + '/missing')).status, 404);
      const plain = new WsClient(url.replace('http', 'ws') + '/ws');
      await plain.opened;
      plain.send('a');
      assert.equal(await plain.next(), 'ws:a');
      plain.close();
      const sock = await open(url + '/sock', 'websocket');
      const got = collect(sock, 1);
      sock.send('b');
      assert.deepEqual(await got, ['sockjs:b']);
      sock.close();
    } finally {
      wss.close();
      await shut(server, svc);
    }
  });

  for (const order of ['native router attached first', 'compat installed first']) {
    test(`mid-migration: a native router in an Express app and a compat service share one server (${order})`, async () => {
      const app = express();
      const native = sockjs();
      native.on('connection', (c) => c.on('data', (m) => c.write('native:' + m)));
      app.use('/native', native);
      const server = http.createServer(app);
      const old = createServer({ prefix: '/old' });
      old.on('connection', (c) => c.on('data', (m) => c.write('old:' + m)));
      if (order === 'native router attached first') {
        native.attach(server);
        old.installHandlers(server);
      } else {
        old.installHandlers(server);
        native.attach(server);
      }
      const url = await listenOn(server);
      try {
        for (const t of ['websocket', 'xhr-streaming']) {
          for (const [path, tag] of [['/native', 'native'], ['/old', 'old']]) {
            const sock = await open(url + path, t);
            const got = collect(sock, 1);
            sock.send('m');
            assert.deepEqual(await got, [tag + ':m'], `${t} ${path}`);
            sock.close();
          }
        }
      } finally {
        await native.close();
        await shut(server, old);
      }
    });
  }

  test('detach(server) puts the previous listeners back (open sessions stay); attach again serves again', async () => {
    const server = http.createServer((_req, res) => res.end('app'));
    const svc = createServer({ prefix: '/d' });
    svc.on('connection', (c) => c.on('data', (m) => c.write(m)));
    svc.attach(server);
    const url = await listenOn(server);
    try {
      assert.equal(server.listenerCount('request'), 1);
      const sock = await open(url + '/d', 'websocket');
      svc.detach(server);
      assert.equal((await GET(url + '/d/info')).body, 'app');
      assert.equal(server.listenerCount('request'), 1);
      const got = collect(sock, 1);
      sock.send('still open');
      assert.deepEqual(await got, ['still open']);
      sock.close();
      svc.attach(server);
      assert.equal((await GET(url + '/d')).body, 'Welcome to SockJS!\n');
      const again = await open(url + '/d', 'websocket');
      again.close();
    } finally {
      await shut(server, svc);
    }
  });

  test('websocket-multiplex servers: new MultiplexServer(service).registerChannel(name) as with sockjs-node', async () => {
    const service = createServer({ prefix: '/multiplex' });
    const multiplexer = new MultiplexServer(service);
    multiplexer.registerChannel('ann').on('connection', (conn) => {
      conn.write('Ann says hi!');
      conn.on('data', (data) => conn.write('Ann nods: ' + data));
    });
    multiplexer.registerChannel('carl').on('connection', (conn) => {
      conn.write('Carl says goodbye!');
      conn.end();
    });
    const server = http.createServer();
    service.installHandlers(server);
    const url = await listenOn(server);
    try {
      const sock = await open(url + '/multiplex', 'xhr-streaming');
      const got = collect(sock, 5);
      sock.send('sub,ann');
      sock.send('msg,ann,hello, world');
      sock.send('sub,carl');
      sock.send('sub,dave');
      assert.deepEqual(await got, ['msg,ann,Ann says hi!', 'msg,ann,Ann nods: hello, world', 'msg,carl,Carl says goodbye!', 'uns,carl', 'uns,dave']);
      sock.close();
    } finally {
      await shut(server, service);
    }
  });
});
