/**
 * expressServer(app) / expressServerOptions(app): an http.Server whose requests and responses are
 * created with the Express app's prototypes, so that Express's per-request prototype switch is a
 * no-op and V8 keeps one hidden class for all of them (docs/performance.md, "What Express costs").
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import http from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import { fileURLToPath } from 'node:url';
import express from 'express';
import sockjs, { expressServer, expressServerOptions } from '../../lib/index.js';
import { responseClassFor } from '../../lib/express-server.js';
import { GET, roundTrips } from '../support/client.js';
import { TEST_CERT, TEST_KEY } from '../support/tls.js';

async function listening(server: http.Server): Promise<{ url: string; close(): Promise<void> }> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    close: () => {
      server.closeAllConnections();
      return new Promise((r) => server.close(() => r()));
    },
  };
}

test('expressServer: requests and responses are born with the app\'s prototypes, before Express sees them', async () => {
  const app = express();
  app.get('/who', (req, res) => res.json({ app: req.app === app, locals: typeof res.locals, q: req.query.q }));
  const server = expressServer(app);
  const seen: boolean[] = [];
  server.prependListener('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    seen.push(Object.getPrototypeOf(req) === app.request && Object.getPrototypeOf(res) === app.response);
    // What the upgrade hook makes the response of a websocket handshake with.
    seen.push(responseClassFor(req).prototype === app.response);
  });
  const s = await listening(server);
  try {
    const reply = await GET(s.url + '/who?q=1');
    assert.equal(reply.status, 200);
    assert.deepEqual(JSON.parse(reply.body), { app: true, locals: 'object', q: '1' });
    assert.deepEqual(seen, [true, true]);
    assert.equal(responseClassFor(new http.IncomingMessage(null as never)), http.ServerResponse);
    assert.equal((await GET(s.url + '/missing')).status, 404);
  } finally {
    await s.close();
  }
});

test('expressServer: finished requests and responses share their hidden classes and keep fast properties (V8 intrinsics, child process)', async () => {
  const script = fileURLToPath(new URL('../support/hidden-classes.ts', import.meta.url));
  const out = await new Promise<string>((resolve, reject) =>
    execFile(process.execPath, ['--allow-natives-syntax', '--import', 'tsx', script], { timeout: 30_000 }, (err, stdout) =>
      err ? reject(err) : resolve(stdout),
    ),
  );
  const { pairs, sameRes, sameReq, dictionaries } = JSON.parse(out) as { pairs: number; sameRes: number; sameReq: number; dictionaries: number };
  assert.equal(pairs, 39);
  // With app.listen(), Express's Object.setPrototypeOf leaves every one of them a class of its own.
  assert.equal(sameRes, pairs);
  assert.equal(sameReq, pairs);
  // Node's constructors add more fields than V8 gives a plain function's objects room for.
  assert.equal(dictionaries, 0);
});

test('expressServer: a SockJS service answers over HTTP and websocket transports, through a sub-app too', async () => {
  const app = express();
  const sub = express();
  const echo = sockjs();
  echo.on('connection', (c) => c.on('data', (m) => c.write(m)));
  sub.use('/echo', echo);
  app.use('/sub', sub);
  const server = expressServer(app);
  echo.attach(server);
  const s = await listening(server);
  try {
    await roundTrips(s.url + '/sub/echo');
  } finally {
    await s.close();
  }
});

test('expressServer: an Express 4 app gets born requests too, and serves SockJS over HTTP and websocket', async () => {
  const { default: express4 } = (await import('express4')) as { default: typeof express };
  const app = express4();
  const echo = sockjs();
  echo.on('connection', (c) => c.on('data', (m) => c.write(m)));
  app.use('/echo', echo);
  const server = expressServer(app);
  echo.attach(server);
  let born = 0;
  // In front of the app: the upgrade hook must still send handshakes to the app, not to this.
  server.prependListener('request', (req: http.IncomingMessage) => {
    if (Object.getPrototypeOf(req) === app.request && responseClassFor(req).prototype === app.response) born++;
  });
  // Upgraded sockets are not the server's to close: a stuck handshake's would keep close() waiting.
  const sockets = new Set<Duplex>();
  server.on('connection', (socket: Duplex) => sockets.add(socket));
  const s = await listening(server);
  let timer: NodeJS.Timeout | undefined;
  try {
    // A handshake sent to the wrong listener is never answered: fail instead of hanging.
    const stuck = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('no answer in 10 s: the handshake did not reach the app')), 10_000);
    });
    await Promise.race([roundTrips(s.url + '/echo'), stuck]);
    assert.equal(born, 3);
  } finally {
    clearTimeout(timer);
    for (const socket of sockets) socket.destroy();
    await s.close();
  }
});

test('expressServer: server options are passed on (maxHeaderSize)', async () => {
  const app = express();
  app.get('/', (_req, res) => res.send('ok'));
  const s = await listening(expressServer(app, { maxHeaderSize: 1024 }));
  try {
    assert.equal((await GET(s.url + '/')).body, 'ok');
    assert.equal((await GET(s.url + '/', { headers: { 'x-big': 'y'.repeat(2048) } })).status, 431);
  } finally {
    await s.close();
  }
});

test('expressServerOptions: an https server gets born requests and serves SockJS over TLS', async () => {
  const app = express();
  const echo = sockjs();
  echo.on('connection', (c) => c.on('data', (m) => c.write(m)));
  app.use('/echo', echo);
  const server = https.createServer({ key: TEST_KEY, cert: TEST_CERT, ...expressServerOptions(app) }, app);
  let born = 0;
  server.prependListener('request', (req: http.IncomingMessage) => {
    if (Object.getPrototypeOf(req) === app.request) born++;
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const post = (path: string, body = ''): Promise<{ status: number; body: string }> =>
    new Promise((resolve, reject) => {
      const req = https.request({ host: '127.0.0.1', port, path, method: 'POST', ca: TEST_CERT }, (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (d: string) => (text += d)).on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      });
      req.on('error', reject).end(body);
    });
  try {
    assert.equal((await post('/echo/000/tls/xhr')).body, 'o\n');
    assert.equal((await post('/echo/000/tls/xhr_send', '["over tls"]')).status, 204);
    assert.equal((await post('/echo/000/tls/xhr')).body, 'a["over tls"]\n');
    assert.equal(born, 3);
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
});

test('expressServerOptions: runs the given constructors; an ES class base is left as it is', async () => {
  const app = express();
  app.get('/', (req, res) => res.send(String((req as unknown as { tagged?: boolean }).tagged)));
  function Tagged(this: { tagged: boolean }, socket: never) {
    http.IncomingMessage.call(this as never, socket);
    this.tagged = true;
  }
  Tagged.prototype = Object.create(http.IncomingMessage.prototype);
  const opts = expressServerOptions(app, { IncomingMessage: Tagged as unknown as typeof http.IncomingMessage });
  assert.notEqual(opts.IncomingMessage, Tagged);
  const s = await listening(http.createServer(opts, app));
  try {
    assert.equal((await GET(s.url + '/')).body, 'true');
  } finally {
    await s.close();
  }
  class Modern extends http.IncomingMessage {}
  const kept = expressServerOptions(app, { IncomingMessage: Modern });
  assert.equal(kept.IncomingMessage, Modern);
  assert.equal(kept.ServerResponse, undefined);
});

test('expressServer: anything but an Express app is refused with a TypeError that says what to pass', () => {
  const plain = ((_req: http.IncomingMessage, res: http.ServerResponse) => res.end()) as never;
  assert.throws(() => expressServer(plain), {
    name: 'TypeError',
    message: /expressServer\(app\) takes an Express application .*use http\.createServer\(handler\)/,
  });
  assert.throws(() => expressServerOptions({} as never), { name: 'TypeError', message: /expressServerOptions\(app\) takes an Express application/ });
});
