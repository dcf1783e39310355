/** Broadcast, rooms and the adapter interface that carries them between processes. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import sockjs, { type Adapter, type AdapterHost, type BroadcastPacket, type Connection } from '../../lib/index.js';
import { POST, WsClient, sessionUrl } from '../support/client.js';
import { startService } from '../support/service.js';
import { waitUntil } from '../support/wait.js';

/** Adapters joined by an in-memory bus: what Redis pub/sub does between processes. */
function bus(): () => Adapter {
  const hosts = new Set<AdapterHost>();
  return () => {
    let self: AdapterHost;
    return {
      bind(host) {
        self = host;
        hosts.add(host);
      },
      publish(packet: BroadcastPacket) {
        for (const h of hosts) if (h !== self) h.deliver(packet);
      },
      close() {
        hosts.delete(self);
        return Promise.resolve();
      },
    };
  };
}

test('broadcast: every open connection gets the message once, on framed and raw websockets and polling', async () => {
  const s = await startService();
  const a = await s.websocket();
  const raw = new WsClient(s.url.replace('http', 'ws') + '/websocket');
  await raw.opened;
  const poll = sessionUrl(s.url);
  await POST(poll + '/xhr');
  assert.equal(s.r.broadcast('hello "all"'), 3);
  assert.equal(await a.next(), 'a["hello \\"all\\""]');
  assert.equal(await raw.next(), 'hello "all"');
  assert.equal((await POST(poll + '/xhr')).body, 'a["hello \\"all\\""]\n');
  a.close();
  raw.close();
  await s.close();
});

test('broadcast: except leaves out one connection or several', async () => {
  const s = await startService();
  const a = await s.websocket();
  const b = await s.websocket();
  const c = await s.websocket();
  const [ca, cb] = s.conns;
  assert.equal(s.r.broadcast('one', { except: ca }), 2);
  assert.equal(s.r.broadcast('two', { except: [ca!, cb!] }), 1);
  assert.equal(await b.next(), 'a["one"]');
  assert.equal(await c.next(), 'a["one","two"]');
  await assert.rejects(a.next(200), /timed out/);
  a.close();
  b.close();
  c.close();
  await s.close();
});

test('broadcast(connections, message): only the given connections, as sockjs-tornado', async () => {
  const s = await startService();
  const a = await s.websocket();
  const b = await s.websocket();
  assert.equal(s.r.broadcast([s.conns[1]!], 'just b'), 1);
  assert.equal(await b.next(), 'a["just b"]');
  await assert.rejects(a.next(200), /timed out/);
  assert.throws(() => s.r.broadcast([s.conns[0]!] as never, 5 as never), /broadcast\(message, \{ except \}\) or broadcast\(connections, message\)/);
  a.close();
  b.close();
  await s.close();
});

test('rooms: join, leave, to(room).send, and a closed connection leaves its rooms', async () => {
  const s = await startService();
  const a = await s.websocket();
  const b = await s.websocket();
  const [ca, cb] = s.conns as [Connection, Connection];
  ca.join('red').join('blue');
  cb.join('blue');
  assert.deepEqual([...ca.rooms].sort(), ['blue', 'red']);
  assert.equal(s.r.to('red').send('r1'), 1);
  assert.equal(s.r.to('blue').send('b1', { except: cb }), 1);
  assert.equal(await a.next(), 'a["r1","b1"]');
  ca.leave('red');
  assert.equal(s.r.to('red').send('r2'), 0);
  assert.equal(s.r.to('blue').connections.size, 2);
  b.close();
  await b.closed;
  await waitUntil(() => s.closes.length >= 1, "b's 'close' on the server");
  assert.equal(s.r.to('blue').connections.size, 1);
  assert.equal(cb.rooms.size, 0);
  cb.join('blue');
  assert.equal(s.r.to('blue').connections.size, 1, 'a closed connection cannot join');
  assert.throws(() => ca.join(''), /a room name must be a string of 1 to 256 characters/);
  assert.throws(() => s.r.to(7 as never), /to\(room\) takes a room name/);
  a.close();
  await s.close();
});

test('adapter: broadcasts and room sends reach connections of another process exactly once, in order', async () => {
  const link = bus();
  const one = await startService({ adapter: link() });
  const two = await startService({ adapter: link() });
  const a = await one.websocket();
  const b = await two.websocket();
  two.conns[0]!.join('room');
  for (let i = 0; i < 20; i++) one.r.broadcast('m' + i);
  one.r.to('room').send('to room');
  one.r.to('nobody').send('lost');
  const expected = [...Array.from({ length: 20 }, (_, i) => 'm' + i), 'to room'];
  const got: string[] = [];
  while (got.length < expected.length) got.push(...(JSON.parse((await b.next())!.slice(1)) as string[]));
  assert.deepEqual(got, expected);
  const gotA: string[] = [];
  while (gotA.length < 20) gotA.push(...(JSON.parse((await a.next())!.slice(1)) as string[]));
  assert.equal(gotA.length, 20, 'the publisher process delivers locally once, and does not get its own packets back');
  // except crosses processes by connection id.
  two.r.broadcast('not to b', { except: two.conns[0] });
  assert.equal(await a.next(), 'a["not to b"]');
  await assert.rejects(b.next(200), /timed out/);
  a.close();
  b.close();
  await one.close();
  await two.close();
});

test('adapter: an adapter error is logged and emitted as adapter_error, never thrown', async () => {
  let host: AdapterHost | undefined;
  const lines: string[] = [];
  const s = await startService({
    adapter: { bind: (h) => (host = h), publish: () => {}, close: () => Promise.resolve() },
    log: (sev, msg) => lines.push(sev + ' ' + msg),
  });
  const errors: Error[] = [];
  s.r.on('adapter_error', (e) => errors.push(e));
  host!.error(new Error('redis down'));
  assert.equal(errors[0]?.message, 'redis down');
  assert.ok(lines.includes('error adapter: redis down'));
  assert.throws(() => sockjs({ adapter: {} as never }), /"adapter" must be an adapter object with bind\(\), publish\(\) and close\(\)/);
  await s.close();
});

/** Every message of the `a[...]` frames a client reads until it has `count` of them. */
async function messages(c: WsClient, count: number): Promise<string[]> {
  const out: string[] = [];
  while (out.length < count) {
    const frame = await c.next();
    assert.ok(frame !== null && frame.startsWith('a'), 'expected an a[...] frame, got ' + String(frame));
    out.push(...(JSON.parse(frame.slice(1)) as string[]));
  }
  return out;
}

test('rooms: sends of one tick reach each member in order, whatever else it was sent meanwhile (shared runs of frames)', async () => {
  const s = await startService();
  try {
    const [a, b, c, d] = [await s.websocket(), await s.websocket(), await s.websocket(), await s.websocket()];
    const [ca, cb, cc] = s.conns;
    ca!.join('x');
    cb!.join('x');
    cc!.join('x').join('y');
    // In one tick: room x, a private write to b, room y (c only), room x again, a broadcast.
    s.r.to('x').send('1');
    cb!.write('own');
    s.r.to('y').send('y');
    s.r.to('x').send('2');
    s.r.broadcast('all');
    assert.deepEqual(await messages(a, 3), ['1', '2', 'all']);
    assert.deepEqual(await messages(b, 4), ['1', 'own', '2', 'all']);
    assert.deepEqual(await messages(c, 4), ['1', 'y', '2', 'all']);
    assert.deepEqual(await messages(d, 1), ['all']);
    // The next tick starts afresh: nothing of the last run is sent again.
    s.r.to('x').send('3');
    assert.deepEqual(await messages(a, 1), ['3']);
    assert.deepEqual(await messages(c, 1), ['3']);
  } finally {
    await s.close();
  }
});
