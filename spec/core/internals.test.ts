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
import { TEXT_FRAME, flattenHead, frameSenderOf, responseOnSocket } from '../../lib/internals.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

test('internals: ws.send(text, { binary: false }) ends in ws\'s frame writer with exactly the options sockjs-express passes it', async () => {
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

test('internals: Node keeps the response in flight on its socket (_httpMessage) and its head as a string (_header)', async () => {
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

test('internals: with SOCKJS_EXPRESS_NO_INTERNALS=1 none is read, and websockets, streaming and pipelined handshakes still work', () => {
  const env = { ...process.env, SOCKJS_EXPRESS_NO_INTERNALS: '1' };
  const check = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', `
    import { frameSenderOf, responseOnSocket } from './lib/internals.ts';
    if (frameSenderOf({ _sender: { send() {} } }) !== null || responseOnSocket({ _httpMessage: {} }) !== null) process.exit(3);
  `], { cwd: root, env, encoding: 'utf8' });
  assert.equal(check.status, 0, check.stderr);
  const files = ['spec/protocol/websocket.test.ts', 'spec/protocol/xhr-streaming.test.ts', 'spec/protocol/raw-websocket.test.ts', 'spec/security/bad-input.test.ts'];
  const run = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=dot', ...files], { cwd: root, env, encoding: 'utf8', timeout: 240_000 });
  assert.equal(run.status, 0, run.stdout.slice(-3000) + run.stderr.slice(-2000));
});
