/**
 * Recovery across processes, with the companion client in Node: two server processes
 * (spec/cluster/node-server.ts, /recover: `recovery` with the Redis adapter) and a real
 * redis-server. The client reaches them through a switch (a TCP proxy that forwards to one
 * process, then to the other): its process is killed (SIGKILL) while its room is busy, the switch
 * moves to the other process, and the client resumes there: the same connection id and rooms,
 * every room message in the Redis Stream exactly once and in order, and both sides told that it
 * moved and that direct writes may be lost.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { connect, type RecoveredInfo, type SockJSConstructor } from '../../lib/client/index.js';
import { waitUntil } from '../support/wait.js';
import { canConnect, freePort } from '../support/ports.js';
import { sleep } from '../support/client.js';
import { ctl, parse, session } from '../recovery/app.js';

const SockJS = createRequire(import.meta.url)('sockjs-client') as SockJSConstructor;
const root = fileURLToPath(new URL('../..', import.meta.url));
const children: ChildProcess[] = [];
/** The next message that is not the server's periodic ack (its 1 s timer may fire at any point). */
async function nextNotAck(s: { next(): Promise<string> }): Promise<string> {
  for (;;) {
    const m = await s.next();
    if (!m.startsWith('\u0000{"t":"ack"')) return m;
  }
}

let redisPort = 0;


/** One inline command to redis-server; its raw reply. */
function redisCommand(command: string): Promise<string> {
  return new Promise((resolve) => {
    let reply = '';
    const c = net.connect(redisPort, '127.0.0.1', () => c.write(command + '\r\n'));
    c.setEncoding('utf8');
    c.on('data', (d: string) => (reply += d));
    // The reply is complete when Redis has nothing more within a moment; QUIT ends it at once.
    c.on('close', () => resolve(reply));
    c.on('error', () => resolve(''));
    setTimeout(() => c.end('QUIT\r\n'), 300);
  });
}

interface Node {
  name: string;
  port: number;
  proc: ChildProcess;
}

async function startNode(name: string): Promise<Node> {
  const port = await freePort();
  const proc = spawn(process.execPath, ['--import', 'tsx', 'spec/cluster/node-server.ts'], {
    cwd: root,
    env: { ...process.env, NAME: name, PORT: String(port), REDIS_URL: `redis://127.0.0.1:${redisPort}` },
    stdio: 'ignore',
  });
  children.push(proc);
  await waitUntil(() => canConnect(port), `${name} to listen`, 60_000);
  return { name, port, proc };
}

/** A TCP switch: every new connection goes to the current target. */
async function startSwitch(target: number): Promise<{ port: number; to(port: number): void; close(): void }> {
  let current = target;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(current, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => {});
      s.on('close', () => {
        sockets.delete(s);
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    to: (port) => (current = port),
    close: () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

async function get(port: number, path: string): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  return res.text();
}

let a: Node;
let b: Node;

before(async () => {
  redisPort = await freePort();
  children.push(spawn('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' }));
  await waitUntil(async () => (await redisCommand('PING')).startsWith('+PONG'), 'redis-server to answer', 20_000);
  [a, b] = await Promise.all([startNode('a'), startNode('b')]);
});

after(() => {
  for (const c of children) c.kill('SIGKILL');
});

/** The room's messages in the stream, in stream order (what every member must get). */
async function streamed(room: string): Promise<string[]> {
  const raw = await redisCommand('XRANGE cluster-recovery:stream - +');
  // RESP, one line each: ..., 'm', '$<len>', <message>, '$1', 'r', '$<len>', <room> (no CR/LF in the test's messages).
  const lines = raw.split('\r\n');
  const out: string[] = [];
  for (let i = 0; i + 6 < lines.length; i++) {
    if (lines[i] === 'm' && lines[i + 4] === 'r' && lines[i + 6] === room) out.push(lines[i + 2]!);
  }
  return out;
}

test('by hand: version 2 markers, a resume on the other process, the credential used once, forged ones refused, a lost rooms version a gap', async () => {
  const onA = `http://127.0.0.1:${a.port}/recover`;
  const onB = `http://127.0.0.1:${b.port}/recover`;
  const s1 = await session(onA);
  assert.deepEqual(parse(await s1.next()), { t: 'ready', v: 2 });
  s1.send(ctl({ t: 'hello', v: 2 }));
  const w1 = parse(await s1.next());
  assert.equal(w1.v, 2);
  assert.match(String(w1.s), /^\d+-\d+$/, 'a new connection starts at a stream position');
  assert.equal(w1.g, 0);
  assert.deepEqual(parse(await s1.next()), { t: 'd' }, 'a direct write follows: stop counting');
  assert.equal(await s1.next(), 'node:a');
  s1.send('join:wire');
  await waitUntil(async () => (await get(a.port, '/events')).includes('"rooms":[]'), 'a to see the connection');
  await sleep(200); // the join is saved with the rooms
  await get(b.port, '/pub?room=wire&m=x1');
  const p1 = parse(await nextNotAck(s1));
  assert.equal(p1.t, 'p', 'a room message after a direct write and a rooms change: its position first');
  assert.equal(p1.g, 1, 'rooms version 1 (joined wire)');
  assert.equal(await s1.next(), 'x1');
  await s1.close();
  await get(b.port, '/pub?room=wire&m=x2'); // missed

  const hello = { t: 'hello', v: 2, resume: w1.token, recv: 2, s: p1.s, g: 1, k: 1, c: 1, n: 1 };
  const s2 = await session(onB);
  await s2.next();
  s2.send(ctl(hello));
  const w2 = parse(await s2.next());
  assert.equal(w2.recovered, true);
  assert.equal(w2.moved, true);
  assert.equal(w2.direct, true, 'a wrote to it directly: the client is told such writes may be lost');
  assert.equal(parse(await nextNotAck(s2)).t, 'p');
  assert.equal(await s2.next(), 'x2', 'the missed room message, from the stream');
  assert.deepEqual(parse(await s2.next()), { t: 'd' });
  assert.equal(await s2.next(), 'node:b');
  // As if that welcome were lost: the same credential again finds the connection where it moved.
  await s2.close();
  const s2b = await session(onB);
  await s2b.next();
  s2b.send(ctl(hello));
  const w2b = parse(await s2b.next());
  assert.equal(w2b.recovered, true, 'resumed again after a lost welcome: ' + JSON.stringify(w2b));
  assert.equal(w2b.moved, undefined, 'resumed on the process it moved to');
  s2b.send(ctl({ t: 'ack', recv: 4, probe: true }));
  for (let m = await s2b.next(); !(m.startsWith('\u0000{') && parse(m).t === 'ack'); m = await s2b.next());
  await s2b.close();

  // The credential served once; forged ones never.
  const [key] = String(w1.token).split('.');
  for (const token of [w1.token, key + '.' + Buffer.alloc(32).toString('base64url'), 'nokey.x']) {
    const s = await session(onB);
    await s.next();
    s.send(ctl({ ...hello, resume: token }));
    const w = parse(await s.next());
    assert.equal(w.recovered, false, 'refused: ' + String(token));
    assert.equal(w.reason, 'unknown');
    await s.close();
  }

  // A rooms version the store no longer has: the client is told it is not recovered.
  const s3 = await session(onA);
  await s3.next();
  s3.send(ctl({ t: 'hello', v: 2 }));
  const w3 = parse(await s3.next());
  await s3.next();
  await s3.next();
  s3.send(ctl({ t: 'ack', recv: 1 }));
  await sleep(200);
  await s3.close();
  const s4 = await session(onB);
  await s4.next();
  s4.send(ctl({ t: 'hello', v: 2, resume: w3.token, recv: 1, s: w3.s, g: 99, k: 0, c: 0, n: 0 }));
  const w4 = parse(await s4.next());
  assert.equal(w4.recovered, false);
  assert.equal(w4.reason, 'gap');
  await s4.close();
});

test('a client whose process is killed resumes on another one: rooms back, every room message once and in order, direct losses reported', async () => {
  const sw = await startSwitch(a.port);
  const sock = connect(`http://127.0.0.1:${sw.port}/recover`, { SockJS, transports: ['websocket'], reconnect: { initialDelay: 50, maxDelay: 200 } });
  const got: string[] = [];
  const recovered: RecoveredInfo[] = [];
  sock.on('message', (m) => got.push(m));
  sock.on('recovered', (info) => recovered.push(info));
  sock.on('lost', (info) => assert.fail('lost: ' + JSON.stringify(info)));
  await waitUntil(() => got.includes('node:a'), 'the client to open on a', 20_000);
  sock.send('join:lobby');
  sock.send('direct:hello');
  await waitUntil(() => got.includes('direct:hello'), 'the join and the direct write', 10_000);
  const conn = (JSON.parse(await get(a.port, '/events')) as { id: string }[]).at(-1);

  // Both processes publish to the room, through the stream.
  let n = 0;
  let publishing = true;
  const publisher = (async () => {
    while (publishing) {
      const from = n % 2 === 0 ? a : b;
      await get(from.port, `/pub?room=lobby&m=m${n}`).catch(() => {});
      n++;
      await sleep(10);
    }
  })();
  await waitUntil(() => got.filter((m) => m.startsWith('m')).length >= 20, 'room messages before the kill', 20_000);
  a.proc.kill('SIGKILL');
  const atKill = n;
  sw.to(b.port);
  // Publishes go to a and b in turn; a's fail from now on. Counted, not timed: a loaded machine publishes slowly.
  await waitUntil(() => n >= atKill + 10, 'messages published while the client is away', 20_000);
  await waitUntil(() => recovered.length === 1, 'the client to resume on b', 30_000);
  const atResume = n;
  await waitUntil(() => n >= atResume + 10, 'messages published after the resume', 20_000);
  publishing = false;
  await publisher;
  const expected = await streamed('lobby');
  assert.ok(expected.length >= 30, `enough room messages (${expected.length})`);
  await waitUntil(() => got.filter((m) => m.startsWith('m')).length >= expected.length, 'every room message', 20_000).catch(() => {});
  assert.deepEqual(got.filter((m) => /^m\d+$/.test(m)), expected, 'every room message in the stream, once, in stream order');
  assert.ok(got.includes('node:b'), 'b opened the connection');
  // The client's messages the old process never confirmed go again (join:lobby was saved with the rooms, so at most this one).
  assert.equal(recovered[0]!.moved, true);
  assert.equal(recovered[0]!.directMayBeLost, true);
  assert.ok(recovered[0]!.resent.length <= 1 && recovered[0]!.resent.every((m) => m === 'direct:hello'), JSON.stringify(recovered[0]));

  const events = JSON.parse(await get(b.port, '/events')) as Record<string, unknown>[];
  const mine = events.filter((e) => e.id === conn!.id);
  assert.deepEqual(mine[0], { event: 'connection', id: conn!.id, rooms: ['lobby'] }, 'same id, rooms restored');
  assert.equal(mine[1]!.event, 'resume');
  assert.equal(mine[1]!.moved, true);
  assert.equal(mine[1]!.directMayBeLost, true);
  assert.equal(mine[1]!.resent, recovered[0]!.resent.length, 'the app is told how many client messages come again');
  assert.ok((mine[1]!.replayed as number) > 0, 'room messages replayed from the stream');

  // Still one connection, in the room, on b.
  sock.send('say:lobby:after');
  await waitUntil(() => got.includes('after'), 'a room message after the move', 10_000);
  sock.close();
  sw.close();
});
