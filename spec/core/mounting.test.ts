/**
 * Where the router can live: nested mount paths, several services in one app, inside a sub-app
 * or Router, http.createServer(app), plain Connect — over HTTP and websockets alike.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import express from 'express';
import connect from 'connect';
import sockjs, { type SockJSRouter } from '../../lib/index.js';
import { POST, WsClient, roundTrips, sessionUrl } from '../support/client.js';

// Express internals read by the router (lib/internals.ts): the shared-mount warning reads the app's
// layer stack, a held request lets go of req.next. spec/core/internals.test.ts runs this file with
// them off, where neither happens.
const WARNS = process.env.SOCKJS_EXPRESS_NO_INTERNALS === '1' ? 0 : 1;

function echo(r: SockJSRouter): SockJSRouter {
  r.on('connection', (c) => c.on('data', (m) => c.write(m)));
  return r;
}

async function listen(handler: http.RequestListener): Promise<{ server: http.Server; url: string; close(): Promise<void> }> {
  const server = http.createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return {
    server,
    url,
    close: () => {
      server.closeAllConnections();
      return new Promise((r) => server.close(() => r()));
    },
  };
}


test('mounting: a nested path (/a/b/echo) serves HTTP and websocket transports, and the prefix is reported', async () => {
  const app = express();
  const r = echo(sockjs());
  let prefix = '';
  r.on('connection', (c) => (prefix = c.prefix));
  app.use('/a/b/echo', r);
  const s = await listen(app);
  r.attach(s.server);
  await roundTrips(s.url + '/a/b/echo');
  assert.equal(prefix, '/a/b/echo');
  await s.close();
});

test('mounting: several services in one app each have their own session store', async () => {
  const app = express();
  const one = echo(sockjs());
  const two = sockjs();
  two.on('connection', (c) => c.on('data', (m) => c.write('two:' + m)));
  app.use('/one', one);
  app.use('/two', two);
  const s = await listen(app);
  const id = sessionUrl('').slice(1);
  assert.equal((await POST(`${s.url}/one/${id}/xhr`)).body, 'o\n');
  // The same session id under the other service is a different, new session.
  assert.equal((await POST(`${s.url}/two/${id}/xhr`)).body, 'o\n');
  await POST(`${s.url}/two/${id}/xhr_send`, { body: '["x"]' });
  assert.equal((await POST(`${s.url}/two/${id}/xhr`)).body, 'a["two:x"]\n');
  assert.equal(one.connections.size, 1);
  assert.equal(two.connections.size, 1);
  await s.close();
});

test('mounting: inside a sub-app and an express.Router, websockets are routed through both', async () => {
  const app = express();
  const sub = express();
  const inner = express.Router();
  const r = echo(sockjs());
  inner.use('/svc', r);
  sub.use('/inner', inner);
  app.use('/sub', sub);
  const s = await listen(app);
  r.attach(s.server);
  await roundTrips(s.url + '/sub/inner/svc');
  await s.close();
});

test('mounting: plain Connect (no Express app) serves HTTP and websocket transports', async () => {
  const app = connect();
  const r = echo(sockjs());
  app.use('/echo', r as unknown as connect.NextHandleFunction);
  const s = await listen(app as unknown as http.RequestListener);
  r.attach(s.server);
  await roundTrips(s.url + '/echo');
  await s.close();
});

test('upgrade hook: installed automatically by the first HTTP request the router sees', async () => {
  const app = express();
  const r = echo(sockjs());
  app.use('/echo', r);
  const s = await listen(app);
  assert.equal(s.server.listenerCount('upgrade'), 0);
  await POST(sessionUrl(s.url + '/echo') + '/xhr');
  assert.equal(s.server.listenerCount('upgrade'), 1);
  await roundTrips(s.url + '/echo');
  await s.close();
});

test('upgrade hook: one listener per server however many services attach', async () => {
  const app = express();
  const a = echo(sockjs());
  const b = echo(sockjs());
  app.use('/a', a);
  app.use('/b', b);
  const s = await listen(app);
  a.attach(s.server);
  b.attach(s.server);
  a.attach(s.server);
  assert.equal(s.server.listenerCount('upgrade'), 1);
  await roundTrips(s.url + '/a');
  await roundTrips(s.url + '/b');
  await s.close();
});

test('upgrade hook: middleware in front of the router guards websocket upgrades as it guards HTTP', async () => {
  const app = express();
  const seen: string[] = [];
  app.use((req, res, next) => {
    seen.push(req.url);
    if (req.headers['x-token'] !== 'secret') {
      res.status(401).send('no token');
      return;
    }
    next();
  });
  const r = echo(sockjs());
  app.use('/echo', r);
  const s = await listen(app);
  r.attach(s.server);
  const wsUrl = sessionUrl(s.url.replace('http', 'ws') + '/echo') + '/websocket';
  const denied = new WsClient(wsUrl);
  await assert.rejects(denied.opened, /unexpected response 401/);
  const allowed = new WsClient(wsUrl.replace(/\/[^/]+\/websocket$/, '/other/websocket'), { headers: { 'x-token': 'secret' } });
  assert.equal(await allowed.next(), 'o');
  allowed.close();
  assert.ok(seen.some((u) => u.endsWith('/websocket')), 'the middleware saw the websocket request');
  assert.equal((await POST(sessionUrl(s.url + '/echo') + '/xhr')).status, 401);
  await s.close();
});

test('upgrade hook: upgrades for paths the app does not route are left to other upgrade listeners', async () => {
  const app = express();
  const r = echo(sockjs());
  app.use('/echo', r);
  const s = await listen(app);
  r.attach(s.server);
  // Another websocket server on the same http.Server, on its own path.
  const { WebSocketServer } = await import('ws');
  const other = new WebSocketServer({ noServer: true });
  s.server.on('upgrade', (req, socket, head) => {
    if (req.url === '/other') other.handleUpgrade(req, socket, head, (ws) => ws.send('from other'));
  });
  const ws = new WsClient(s.url.replace('http', 'ws') + '/other');
  assert.equal(await ws.next(), 'from other');
  ws.close();
  await roundTrips(s.url + '/echo');
  await s.close();
});

test('upgrade hook: an upgrade to a path nobody serves gets 404, and the process keeps serving', async () => {
  const app = express();
  const r = echo(sockjs());
  app.use('/echo', r);
  const s = await listen(app);
  r.attach(s.server);
  const ws = new WsClient(s.url.replace('http', 'ws') + '/nowhere/websocket');
  await assert.rejects(ws.opened, /unexpected response 404/);
  await roundTrips(s.url + '/echo');
  await s.close();
});

test('upgrade hook: an Upgrade header on a non-websocket SockJS path gets that path\'s normal HTTP answer', async () => {
  const app = express();
  const r = echo(sockjs());
  app.use('/echo', r);
  const s = await listen(app);
  r.attach(s.server);
  const reply = await new Promise<string>((resolve) => {
    const req = http.request(s.url + '/echo/info', { headers: { Connection: 'Upgrade', Upgrade: 'websocket' } });
    req.on('response', (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve(res.statusCode + ' ' + body));
    });
    req.on('upgrade', () => resolve('upgraded?'));
    req.end();
  });
  assert.match(reply, /^200 \{"websocket":true/);
  await s.close();
});

test('mounting: an Express 4 app (and an Express 4 Router around it) serves HTTP and websocket transports', async () => {
  const { default: express4 } = (await import('express4')) as { default: typeof express };
  const app = express4();
  const outer = express4.Router();
  const r = echo(sockjs());
  outer.use('/echo', r);
  app.use('/v4', outer);
  const s = await listen(app as unknown as http.RequestListener);
  r.attach(s.server);
  await roundTrips(s.url + '/v4/echo');
  await s.close();
});

test('mounting: a request held open in Express (xhr-streaming) does not keep the app router\'s next() and its closures alive', { skip: WARNS === 0 ? 'releasing req.next is an internal (off here)' : false }, async () => {
  v8.setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const refs: WeakRef<object>[] = [];
  const app = express();
  app.use((_req, _res, next) => {
    refs.push(new WeakRef(next));
    next();
  });
  const service = echo(sockjs());
  app.use('/echo', service);
  const srv = await listen(app);
  try {
    const url = new URL(sessionUrl(srv.url + '/echo') + '/xhr_streaming');
    const req = http.request({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST' });
    const res = await new Promise<http.IncomingMessage>((resolve) => req.once('response', resolve).end());
    // The prelude and the open frame: the request is now held by its session. (Breaking out of
    // a for-await loop would destroy the response, and the session with it.)
    await new Promise<void>((resolve) => {
      let got = '';
      res.on('data', (chunk) => {
        got += String(chunk);
        if (got.endsWith('o\n')) resolve();
      });
    });
    // deref() keeps its target alive until the current job ends: collect in later turns only.
    for (let i = 0; i < 3; i++) {
      await new Promise((r) => setImmediate(r));
      gc();
    }
    assert.equal(service.connections.size, 1, 'the stream is still open');
    assert.equal(refs.length, 1);
    assert.equal(refs[0]!.deref(), undefined, 'next() is still reachable while the stream is open');
    req.destroy();
  } finally {
    await srv.close();
  }
});

test('fall-through: paths under the mount that are not SockJS URLs go on to the app\'s routes and its 404 handler', async () => {
  for (const extra of [false, true]) {
    const app = express();
    const r = echo(sockjs());
    // With middleware of its own the router leaves its fast path; both must pass on.
    if (extra) r.use((_req, _res, next) => next());
    app.use('/api', r);
    app.get('/api/users', (_req, res) => void res.json(['ann']));
    app.post('/api/a/b/c', (_req, res) => void res.send('app route'));
    app.use((_req, res) => void res.status(404).send('app 404'));
    const s = await listen(app);
    try {
      const users = await fetch(s.url + '/api/users');
      assert.deepEqual([users.status, await users.json()], [200, ['ann']], `extra middleware: ${extra}`);
      // Three segments whose last is no transport name: not a session URL.
      assert.equal(await (await fetch(s.url + '/api/a/b/c', { method: 'POST' })).text(), 'app route');
      for (const path of ['/api/a', '/api/a.html', '/api/a/a', '/api/a/a/', '/api//', '/api/a./a/xhr', '/api/a/b/c/d']) {
        const res = await fetch(s.url + path);
        assert.deepEqual([res.status, await res.text()], [404, 'app 404'], path);
      }
      // SockJS URLs stay the service's, its own 404s included.
      assert.equal((await fetch(s.url + '/api/info')).status, 200);
      const send = await fetch(s.url + '/api/000/nosuchsession/xhr_send', { method: 'POST', body: '["x"]' });
      assert.deepEqual([send.status, await send.text()], [404, 'Not found.\n']);
      await roundTrips(s.url + '/api');
    } finally {
      await s.close();
    }
  }
});

test('fall-through: a router mounted at / lets the routes after it answer, and websocket handshakes for other paths reach the app\'s 404', async () => {
  const app = express();
  const r = echo(sockjs());
  app.use(r);
  app.get('/hello', (_req, res) => void res.send('hi'));
  const s = await listen(app);
  r.attach(s.server);
  try {
    assert.equal(await (await fetch(s.url + '/hello')).text(), 'hi');
    assert.equal((await fetch(s.url + '/nothing/here')).status, 404);
    const ws = new WsClient(s.url.replace('http', 'ws') + '/not/sockjs/here/websocket');
    await assert.rejects(ws.opened, /unexpected response 404/);
    await roundTrips(s.url);
  } finally {
    await s.close();
  }
});

test('fall-through: two routers at one path give a process warning that says what to do, once', async () => {
  const warnings: Error[] = [];
  const onWarning = (w: Error): void => void warnings.push(w);
  process.on('warning', onWarning);
  const app = express();
  const first = echo(sockjs());
  const second = sockjs();
  const elsewhere = sockjs();
  app.use('/chat', first);
  app.use('/chat', second);
  app.use('/news', elsewhere);
  const s = await listen(app);
  try {
    await roundTrips(s.url + '/chat');
    await fetch(s.url + '/news/info');
    // Passed on by the first router, this reaches the second, which must not warn again.
    await fetch(s.url + '/chat/not-sockjs');
    // process.emitWarning fires its event on the next tick.
    await new Promise((r) => setImmediate(r));
    const ours = warnings.filter((w) => (w as { code?: string }).code === 'SOCKJS_EXPRESS_SHARED_MOUNT');
    assert.equal(ours.length, WARNS);
    if (WARNS === 0) return;
    assert.match(ours[0]!.message, /2 sockjs-express routers are mounted at "\/chat": the first one answers every SockJS URL there/);
    assert.match(ours[0]!.message, /Mount each service at its own path/);
  } finally {
    process.off('warning', onWarning);
    await s.close();
  }
});

test('fall-through: two routers at one path in an Express 4 app are found too', async () => {
  const { default: express4 } = (await import('express4')) as { default: typeof express };
  const warnings: Error[] = [];
  const onWarning = (w: Error): void => void warnings.push(w);
  process.on('warning', onWarning);
  const app = express4();
  app.use('/chat', echo(sockjs()));
  app.use('/chat', sockjs());
  const s = await listen(app as unknown as http.RequestListener);
  try {
    await fetch(s.url + '/chat/info');
    await new Promise((r) => setImmediate(r));
    assert.equal(warnings.filter((w) => (w as { code?: string }).code === 'SOCKJS_EXPRESS_SHARED_MOUNT').length, WARNS);
  } finally {
    process.off('warning', onWarning);
    await s.close();
  }
});
