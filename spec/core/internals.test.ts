/**
 * The private fields of other packages and of Node that lib/internals.ts reads: each test here
 * fails the day one changes shape, and the last runs the transports with all of them turned off
 * (SOCKJS_EXPRESS_NO_INTERNALS=1), the fallbacks.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { WebSocket, WebSocketServer } from 'ws';
import express from 'express';
import sockjs from '../../lib/index.js';
import { Writable } from 'node:stream';
import { TEXT_FRAME, flattenHead, frameSenderOf, layerStack, quietRepeatEnds, responseOnSocket } from '../../lib/internals.js';
import { Stream, sessionUrl } from '../support/client.js';
import { waitUntil } from '../support/wait.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
// The last test runs some files again with the internals off: there the shape tests have nothing to read.
const FALLBACK = process.env.SOCKJS_EXPRESS_NO_INTERNALS === '1';
const shape = { skip: FALLBACK ? 'internals off: nothing to read' : false };

test('internals: ws.send(text, { binary: false }) ends in ws\'s frame writer with exactly the options sockjs-express passes it', shape, async () => {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: false });
  await new Promise((r) => wss.once('listening', r));
  const seen: unknown[] = [];
  wss.on('connection', (ws) => {
    const sender = frameSenderOf(ws);
    assert.ok(sender !== null, 'a ws server socket has _sender.send');
    const send = sender.send;
    sender.send = function spy(this: unknown, data, options, cb) {
      seen.push(options);
      return send.call(this, data, options, cb);
    };
    ws.send('via ws.send', { binary: false });
    sender.send('via the frame writer', TEXT_FRAME);
  });
  const client = new WebSocket(`ws://127.0.0.1:${(wss.address() as { port: number }).port}`);
  const got: string[] = [];
  await new Promise<void>((r) => client.on('message', (m) => got.push(m.toString()) === 2 && r()));
  assert.deepEqual(got, ['via ws.send', 'via the frame writer']);
  assert.deepEqual(seen[0], { ...TEXT_FRAME }, 'ws.send builds the options TEXT_FRAME copies');
  client.close();
  await new Promise((r) => wss.close(r));
});

test('internals: ws ends a closing websocket\'s socket and frame reader (_receiver) more than once; quietRepeatEnds stops those repeats at the instance', shape, async () => {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: false });
  await new Promise((r) => wss.once('listening', r));
  const ends = { socket: 0, receiver: 0 };
  const closed = new Promise<void>((resolve) => {
    wss.on('connection', (ws) => {
      const socket = (ws as unknown as { _socket: { end: (...a: unknown[]) => unknown } })._socket;
      const receiver = (ws as unknown as { _receiver?: { end: (...a: unknown[]) => unknown; writableEnded?: unknown } })._receiver;
      assert.ok(receiver !== undefined && typeof receiver.writableEnded === 'boolean', 'a ws server socket has a writable _receiver');
      quietRepeatEnds(ws, socket);
      for (const [name, stream] of [['socket', socket], ['receiver', receiver]] as const) {
        const quiet = stream.end;
        assert.notEqual(quiet, Object.getPrototypeOf(stream).end, `${name}: end() replaced on the instance`);
        stream.end = function counted(this: unknown, ...args: unknown[]) {
          ends[name]++;
          return quiet.apply(this, args);
        };
      }
      ws.on('close', () => resolve());
    });
  });
  const client = new WebSocket(`ws://127.0.0.1:${(wss.address() as { port: number }).port}`);
  await new Promise((r) => client.once('open', r));
  client.close(1000);
  await closed;
  // The day ws ends each once, this fails and quietRepeatEnds can go.
  assert.ok(ends.socket >= 2, `the socket was ended ${ends.socket} time(s)`);
  assert.ok(ends.receiver >= 2, `the frame reader was ended ${ends.receiver} time(s)`);
  await new Promise((r) => wss.close(r));
});

test('internals: quietRepeatEnds lets a first end() and every end() with arguments through to the stream\'s own', { skip: FALLBACK ? 'internals off' : false }, async () => {
  class Counted extends Writable {
    reached = 0;
    override end(...args: unknown[]): this {
      this.reached++;
      return (super.end as (...a: unknown[]) => this)(...args);
    }
  }
  const make = (): Counted => new Counted({ write: (_c, _e, cb) => cb() });
  const socket = make();
  const receiver = make();
  quietRepeatEnds({ _receiver: receiver }, socket);
  for (const w of [socket, receiver]) {
    w.end();
    await new Promise((r) => w.once('finish', r));
    assert.equal(w.end(), w);
    assert.equal(w.reached, 1, 'a repeated end() without arguments stops at the instance');
    const err = await new Promise<Error | null | undefined>((r) => w.end(r));
    assert.equal((err as { code?: string } | null | undefined)?.code, 'ERR_STREAM_ALREADY_FINISHED', 'with a callback it reaches Node\'s end(), which answers as before');
    assert.equal(w.reached, 2);
  }
});

test('internals: Node keeps the response in flight on its socket (_httpMessage) and its head as a string (_header)', shape, async () => {
  const server = http.createServer((req, res) => {
    assert.equal(responseOnSocket(req.socket), res);
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    res.write('x');
    const head = (res as unknown as { _header?: unknown })._header;
    assert.equal(typeof head, 'string');
    assert.match(head as string, /^HTTP\/1\.1 200 OK\r\n/);
    flattenHead(res);
    res.end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const status = await new Promise<number>((resolve, reject) => {
    http.get(`http://127.0.0.1:${(server.address() as { port: number }).port}/`, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode!));
    }).on('error', reject);
  });
  assert.equal(status, 200, 'the assertions inside the handler held');
  await new Promise((r) => server.close(r));
});

test('internals: Express keeps layer stacks where the router and the shared-mount warning read them (Router, Express 4 and 5 apps)', shape, async () => {
  const { default: express4 } = (await import('express4')) as { default: typeof express };
  const router = express.Router();
  router.use((_req, _res, next) => next());
  assert.equal(layerStack(router)?.length, 1, 'a Router: stack');
  for (const app of [express(), express4() as unknown as express.Express]) {
    app.use('/x', router);
    const stack = layerStack(app) as { handle?: unknown }[] | undefined;
    assert.ok(stack !== undefined && stack.some((l) => l.handle === router), 'an app: router.stack (5) or _router.stack (4), holding its layers');
  }
});

test('internals: Express leaves req.next on a request it routed, and a held SockJS request lets go of it', async () => {
  const app = express();
  const seen: { next?: unknown }[] = [];
  app.use((req, _res, next) => {
    seen.push(req as { next?: unknown });
    next();
  });
  const r = sockjs();
  app.use('/svc', r);
  const server = http.createServer(app);
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const stream = new Stream('POST', sessionUrl(`http://127.0.0.1:${(server.address() as { port: number }).port}/svc`) + '/xhr_streaming');
  try {
    await stream.readChars(2049);
    await waitUntil(() => seen.length === 1, 'the request to be routed');
    if (FALLBACK) assert.equal(typeof seen[0]!.next, 'function', 'fallback: kept');
    else assert.equal(seen[0]!.next, undefined, 'released while the stream is held');
  } finally {
    stream.close();
    server.closeAllConnections();
    await r.close();
    await new Promise((done) => server.close(done));
  }
});

test('internals: with SOCKJS_EXPRESS_NO_INTERNALS=1 none is read, and websockets, streaming, compression, mounting and pipelined handshakes still work', { skip: FALLBACK ? 'already the fallback run' : false }, () => {
  // NODE_TEST_CONTEXT would make the child test runner report to this one instead of running.
  const { NODE_TEST_CONTEXT: _, ...inherited } = process.env;
  const env = { ...inherited, SOCKJS_EXPRESS_NO_INTERNALS: '1' };
  const check = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', `
    import { frameSenderOf, quietRepeatEnds, responseOnSocket } from './lib/internals.ts';
    if (frameSenderOf({ _sender: { send() {} } }) !== null || responseOnSocket({ _httpMessage: {} }) !== null) process.exit(3);
    const end = () => {};
    const socket = { end, writableEnded: false };
    quietRepeatEnds({}, socket);
    if (socket.end !== end) process.exit(4);
  `], { cwd: root, env, encoding: 'utf8' });
  assert.equal(check.status, 0, check.stderr);
  const files = [
    'spec/protocol/websocket.test.ts', 'spec/protocol/xhr-streaming.test.ts', 'spec/protocol/raw-websocket.test.ts',
    'spec/security/bad-input.test.ts', 'spec/core/mounting.test.ts', 'spec/core/compression.test.ts',
  ];
  // This file too, for the req.next test's fallback branch.
  files.push('spec/core/internals.test.ts');
  const run = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=tap', ...files], { cwd: root, env, encoding: 'utf8', timeout: 240_000 });
  assert.equal(run.status, 0, run.stdout.slice(-3000) + run.stderr.slice(-2000));
  const counts = /# pass (\d+)/.exec(run.stdout + run.stderr);
  assert.ok(counts !== null && Number(counts[1]) > 50, 'the fallback run ran the tests: ' + (run.stdout + run.stderr).slice(-500));
});
