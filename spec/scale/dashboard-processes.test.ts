/**
 * The dashboard across processes over a real redis-server: a second Node process answers the
 * dashboard's questions, its row follows its sessions and messages, it is marked stale and then
 * left out after it dies, nothing is asked while no page polls, and the control channel is
 * bounded (timeouts, garbage, a flood of questions, an outage).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import sockjs from '../../lib/index.js';
import { redisAdapter } from '../../lib/redis.js';
import { parseReport } from '../../lib/figures.js';
import { FORGET_MS, STALE_MS, type ProcessFigures } from '../../lib/dashboard/processes.js';
import type { DashboardSnapshot } from '../../lib/dashboard.js';
import { getSnapshot, type DashboardServer } from '../dashboard/fixture.js';
import { sleep, type WsClient } from '../support/client.js';
import { startRedisServer, type RedisServer } from '../support/redis.js';
import { waitUntil } from '../support/wait.js';
import { allListening, startLocal, startPeer } from './dashboard-processes.js';

let redis: RedisServer;
before(async () => {
  redis = await startRedisServer();
});
after(async () => {
  await redis.stop();
});

/** Polls the snapshot as a page would (a few times a second) until `cond` holds for it; returns that snapshot. */
async function until(s: DashboardServer, cond: (snap: DashboardSnapshot) => boolean, what: string, ms = 10_000): Promise<DashboardSnapshot> {
  let last: DashboardSnapshot | null = null;
  try {
    await waitUntil(async () => {
      await sleep(100);
      last = await getSnapshot(s.url);
      return cond(last);
    }, what, ms);
  } catch (err) {
    throw new Error(`${(err as Error).message}; last processes: ${JSON.stringify(last === null ? null : (last as DashboardSnapshot).processes)}`, { cause: err });
  }
  return last!;
}

const rowOf = (snap: DashboardSnapshot, pid: number | undefined): ProcessFigures | undefined => snap.processes.find((p) => p.pid === pid && !p.local);
const sessionsOf = (p: ProcessFigures | undefined, service: number): number => p?.services[service]?.sessions.reduce((a, b) => a + b, 0) ?? -1;

test('dashboard over Redis: a row per process that follows the other process\'s sessions and messages, cluster totals, and no question while no page polls', async () => {
  const local = await startLocal(redis);
  const peer = await startPeer(redis);
  const open: WsClient[] = [];
  try {
    await allListening(redis);
    const questions = await redis.listen('chat:control');
    for (const service of ['chat', 'chat', 'echo'] as const) open.push(await peer.connect(service));
    open.push(await local.connect('echo'));
    open[0]!.send('["join:lobby"]');
    // Nobody has the page open: no process asks anything.
    await sleep(1500);
    assert.equal(questions.count, 0, 'questions asked while no page polls');

    const t0 = Date.now();
    const pid = peer.child.pid;
    const snap = await until(local, (x) => sessionsOf(rowOf(x, pid), 0) === 2 && sessionsOf(rowOf(x, pid), 1) === 1 && rowOf(x, pid)!.services[0]!.rooms === 1, 'the peer\'s sessions and room');
    const [me, other] = snap.processes;
    assert.equal(snap.processes.length, 2);
    assert.deepEqual([me!.id, me!.local, me!.pid, me!.stale], [`${hostname()}:${process.pid}`, true, process.pid, false]);
    assert.deepEqual([other!.id, other!.local, other!.stale], [`${hostname()}:${pid}`, false, false]);
    assert.equal(new Set(other!.adapters).size, 2, 'one adapter per service answered');
    assert.ok(other!.rss > 0 && other!.heap_used > 0 && other!.uptime_s >= 0);
    assert.deepEqual(me!.services.map((x) => x?.sessions[0]), [0, 1]);
    assert.deepEqual(other!.services.map((x) => x?.sessions[0]), [2, 1]);
    assert.deepEqual(snap.cluster.services.map((x) => x.sessions[0]), [2, 2]);
    assert.deepEqual([snap.cluster.processes, snap.cluster.stale, snap.asks], [2, 0, [true, true]]);
    assert.equal(snap.cluster.services[0]!.rooms, null, 'a room may span processes: not summed');

    // Messages on the other process show as its rates.
    for (let i = 0; i < 20; i++) open[1]!.send('["ping"]');
    const busy = await until(local, (x) => (rowOf(x, pid)?.services[0]?.in_ps ?? 0) > 0, 'the peer\'s message rate');
    assert.ok(rowOf(busy, pid)!.services[0]!.out_ps! > 0);
    assert.ok(rowOf(busy, pid)!.cpu !== null);

    // Sessions that close there leave its row and the totals.
    open[0]!.close();
    open[1]!.close();
    const after = await until(local, (x) => sessionsOf(rowOf(x, pid), 0) === 0, 'the peer\'s chat sessions to close');
    assert.equal(after.cluster.services[0]!.sessions[0], 0);
    assert.equal(sessionsOf(rowOf(after, pid), 1), 1);

    // While polled: at most one question a second. Then none again.
    const asked = questions.count;
    assert.ok(asked >= 1 && asked <= (Date.now() - t0) / 950 + 1, `${asked} questions in ${Date.now() - t0} ms`);
    await sleep(1500);
    assert.equal(questions.count, asked, 'questions after the page stopped polling');
    questions.close();
  } finally {
    for (const ws of open) ws.close();
    await peer.kill();
    await local.close();
  }
});

test('dashboard over Redis: a process that dies is marked stale within seconds, then left out', { timeout: 60_000 }, async () => {
  const local = await startLocal(redis);
  const peer = await startPeer(redis);
  try {
    await allListening(redis);
    const pid = peer.child.pid;
    await until(local, (x) => rowOf(x, pid)?.stale === false, 'the peer\'s row');
    await peer.kill();
    const died = Date.now();
    const stale = await until(local, (x) => rowOf(x, pid)?.stale === true, 'the dead peer to be marked stale');
    const staleAfter = Date.now() - died;
    assert.ok(staleAfter <= STALE_MS + 3000, `stale after ${staleAfter} ms`);
    assert.deepEqual([stale.cluster.processes, stale.cluster.stale], [1, 1]);
    const gone = await until(local, (x) => rowOf(x, pid) === undefined, 'the dead peer to be left out', FORGET_MS + 10_000);
    const goneAfter = Date.now() - died;
    assert.ok(goneAfter >= FORGET_MS - 2000 && goneAfter <= FORGET_MS + 4000, `left out after ${goneAfter} ms`);
    assert.deepEqual([gone.processes.length, gone.cluster.processes, gone.cluster.stale], [1, 1, 0]);
  } finally {
    await peer.kill();
    await local.close();
  }
});

test('redis adapter ask(): answers within the timeout, never hangs, ignores garbage, answers a flood only so often, and gives nothing during an outage', async () => {
  const a = redisAdapter({ url: redis.url, channel: 'bounds' });
  const b = redisAdapter({ url: redis.url, channel: 'bounds' });
  const ra = sockjs({ adapter: a });
  const rb = sockjs({ adapter: b });
  try {
    await waitUntil(async () => (await redis.command('PUBSUB NUMSUB bounds:control')).endsWith(':2\r\n'), 'both adapters to listen', 30_000);
    let t = Date.now();
    const answers = await a.ask!('figures', '', 300);
    assert.ok(Date.now() - t < 300 + 2000, 'resolved at its timeout');
    assert.equal(answers.length, 1);
    assert.equal(answers[0]!.process, `${hostname()}:${process.pid}`);
    assert.deepEqual(parseReport(answers[0]!.payload)?.sessions, {});
    assert.deepEqual(await a.ask!('no such topic', '', 200), [], 'a topic nobody knows has no answer');
    // Garbage on the control channel: not JSON, too big, a reply channel that is not an adapter id.
    for (const junk of ['not json', 'x'.repeat(70_000), JSON.stringify({ n: 'bounds:x', q: 1, t: 'figures', p: '' })]) {
      assert.match(await redis.command(`*3\r\n$7\r\nPUBLISH\r\n$14\r\nbounds:control\r\n$${Buffer.byteLength(junk)}\r\n${junk}`), /^:2\r\n/);
    }
    assert.equal((await a.ask!('figures', '', 300)).length, 1, 'still answering');
    // A flood: at most 20 answers a second (the questions may straddle two seconds).
    const flood = await Promise.all(Array.from({ length: 60 }, () => a.ask!('figures', '', 500)));
    const answered = flood.filter((x) => x.length > 0).length;
    assert.ok(answered >= 1 && answered <= 40, `${answered} of 60 answered`);
    // Closing ends an open question at once, with what it has.
    t = Date.now();
    const pending = a.ask!('figures', '', 10_000);
    await a.close();
    await pending;
    assert.ok(Date.now() - t < 2000, 'the open question ended with close()');
    assert.deepEqual(await a.ask!('figures', '', 10_000), [], 'closed: nothing to ask');
    // Redis away: b cannot reach anyone, and says so at once rather than at its timeout.
    await redis.stop();
    await waitUntil(async () => (await b.ask!('figures', '', 10_000)).length === 0, 'an immediate empty answer while Redis is away', 5000);
  } finally {
    // Redis back first: close() quits only connected clients (one still reconnecting would keep the process alive).
    if (!redis.running) await redis.start();
    await waitUntil(async () => (await redis.command('PUBSUB NUMSUB bounds:control')).match(/:[12]\r\n$/) !== null, 'b to subscribe again', 15_000);
    await ra.close();
    await rb.close();
  }
});
