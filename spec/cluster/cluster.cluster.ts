/**
 * Cluster end-to-end (`npm run test:cluster`): redis-server and haproxy from Debian's packages,
 * three node processes behind haproxy (docs/deploy/haproxy.cfg), and sockjs-client in headless
 * Chromium with sessions over every browser transport spread across the nodes. A broadcast from
 * any node reaches every session exactly once; polling sessions never break; killing a node makes
 * its clients reconnect to the others while the rest keep chatting. Then, with `recovery` and the
 * companion client (/recover): a node is killed while a room is busy, and its clients resume on
 * the others with every room message exactly once, in order, and are told what may be lost.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { openSync } from 'node:fs';
import { join } from 'node:path';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../e2e/browser.js';
import { freePort } from '../support/ports.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const children: ChildProcess[] = [];
const nodes = new Map<string, ChildProcess>();
const nodePorts = new Map<string, number>();
let redisUrl = '';
let origin = '';
let browser: Browser;
const pages = new Map<string, Page>();

async function waitPort(port: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const ok = await new Promise<boolean>((res) => {
      const c = net.connect(port, '127.0.0.1', () => (c.destroy(), res(true)));
      c.on('error', () => res(false));
    });
    if (ok) return;
    await sleep(50);
  }
  throw new Error('nothing listens on ' + port);
}
function run(cmd: string, args: string[], env: Record<string, string> = {}): ChildProcess {
  const out = process.env.CLUSTER_TRACE ? openSync(`/tmp/cluster-${cmd.split('/').pop()}-${children.length}.log`, 'w') : 'ignore';
  const c = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', out, out], cwd: root });
  children.push(c);
  return c;
}

before(async () => {
  const missing = ['redis-server', 'haproxy'].filter((b) => spawnSync('sh', ['-c', `command -v ${b}`]).status !== 0);
  if (missing.length > 0) {
    const r = spawnSync('sh', ['-c', `apt-get install -y -qq ${missing.join(' ')} || (apt-get update -qq && apt-get install -y -qq ${missing.join(' ')})`], { stdio: 'inherit' });
    assert.equal(r.status, 0, 'installing ' + missing.join(' '));
  }
  const chromium = spawnSync('sh', [join(root, 'scripts/install-chromium.sh')], { stdio: 'inherit' });
  assert.equal(chromium.status, 0, 'installing chromium');
  const redisPort = await freePort();
  run('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no']);
  await waitPort(redisPort);
  redisUrl = `redis://127.0.0.1:${redisPort}`;
  const env: Record<string, string> = {};
  for (const n of ['n1', 'n2', 'n3']) {
    const port = await freePort();
    nodePorts.set(n, port);
    await startNode(n);
    env['NODE' + n.slice(1)] = '127.0.0.1:' + port;
  }
  const proxyPort = await freePort();
  run('haproxy', ['-f', 'docs/deploy/haproxy.cfg', '-db'], { ...env, LISTEN: '127.0.0.1:' + proxyPort });
  await waitPort(proxyPort);
  await sleep(1500); // health checks up, adapters subscribed
  origin = `http://127.0.0.1:${proxyPort}`;
  browser = await launchChromium();
});

async function startNode(n: string): Promise<void> {
  const port = nodePorts.get(n)!;
  nodes.set(n, run(process.execPath, ['--import', 'tsx', 'spec/cluster/node-server.ts'], { NAME: n, PORT: String(port), REDIS_URL: redisUrl }));
  await waitPort(port);
}

after(async () => {
  await browser?.close();
  for (const c of children) c.kill('SIGKILL');
});

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

interface PageApi {
  open(transport: string): Promise<number>;
  send(i: number, m: string): void;
  close(i: number): void;
  state(i: number): ClientState;
  /** The companion client on /recover (page.ts). */
  resumable(transport: string, room: string): Promise<number>;
  rstate(i: number): ResumableState;
}
interface ClientState {
  transport: string;
  node: string;
  inbox: string[];
  closed: { code: number; reason: string } | null;
}
declare global {
  interface Window {
    cluster: PageApi;
  }
}

interface Client {
  transport: string;
  page: Page;
  i: number;
  node: string;
}

/**
 * Browsers allow six HTTP/1.1 connections per host and profile, and every streaming or polling
 * session holds one: each transport gets its own browser context (its own connection pool).
 */
async function pageFor(transport: string): Promise<Page> {
  let page = pages.get(transport);
  if (!page) {
    const context = await browser.newContext();
    page = await context.newPage();
    await page.goto(origin + '/cluster.html');
    pages.set(transport, page);
  }
  return page;
}

async function connect(transport: string): Promise<Client> {
  const page = await pageFor(transport);
  const i = await page.evaluate((t) => window.cluster.open(t), transport);
  const s = await state({ transport, page, i, node: '' });
  assert.equal(s.transport, transport, 'sockjs-client used the transport asked for');
  return { transport, page, i, node: s.node };
}
function state(c: Client): Promise<ClientState> {
  return c.page.evaluate((i) => window.cluster.state(i), c.i);
}
function send(c: Client, m: string): Promise<void> {
  return c.page.evaluate(([i, msg]) => window.cluster.send(i, msg), [c.i, m] as const);
}

async function until(what: string, check: () => Promise<boolean>, ms = 15000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('timed out waiting until ' + what);
    await sleep(100);
  }
}

async function everyoneGets(clients: Client[], message: string): Promise<void> {
  const count = async (c: Client): Promise<number> => (await state(c)).inbox.filter((m) => m === message).length;
  await until(`every session got "${message}"`, async () => (await Promise.all(clients.map(count))).every((n) => n >= 1)).catch(() => {});
  await sleep(200); // a duplicate would arrive now
  const counts = await Promise.all(clients.map(count));
  assert.ok(counts.every((n) => n === 1), `every session got "${message}" exactly once: ` + JSON.stringify(clients.map((c, k) => [c.transport, c.node, counts[k]])));
}

// Every transport sockjs-client 1.6 has in a browser, streaming and polling, native and iframe-based.
const TRANSPORTS = ['websocket', 'xhr-streaming', 'xhr-polling', 'eventsource', 'iframe-htmlfile', 'iframe-xhr-polling', 'jsonp-polling'];
const PER_TRANSPORT = 3;

test('cluster: sessions spread over the nodes; broadcasts from any node reach every session exactly once; a killed node\'s clients reconnect', async () => {
  const clients: Client[] = [];
  for (const t of TRANSPORTS) for (let k = 0; k < PER_TRANSPORT; k++) clients.push(await connect(t));
  const used = new Set(clients.map((c) => c.node));
  assert.equal(used.size, 3, `sessions landed on ${[...used].join(', ')}`);

  // Broadcasts from sessions on different nodes over several rounds. Polling sessions keep
  // polling their own node throughout: a mis-routed poll would open a new session, which
  // sockjs-client reports as a close ("Server lost session"), and it would miss these.
  for (let round = 0; round < 3; round++) {
    for (const node of used) {
      const sender = clients.find((c) => c.node === node)!;
      const m = `round ${round} from ${sender.transport} on ${node}`;
      await send(sender, m);
      await everyoneGets(clients, m);
    }
  }
  for (const c of clients) assert.equal((await state(c)).closed, null, `${c.transport} on ${c.node} still open`);

  // Kill one node: its clients see a close (a lost stream, a failed poll, or a poll that
  // haproxy sent to a live node which knows no such session); the others carry on. The one
  // exception is htmlfile: Chromium fires no load event in an iframe whose chunked response was
  // cut, so sockjs-client cannot see the loss until it next sends (the send gets a 404 from the
  // live node it lands on). docs/scaling.md says so.
  const victim = clients[0]!.node;
  nodes.get(victim)!.kill('SIGKILL');
  const orphans = clients.filter((c) => c.node === victim);
  const survivors = clients.filter((c) => c.node !== victim);
  const silent = orphans.filter((c) => c.transport === 'iframe-htmlfile');
  const report = async (e: Error): Promise<never> => {
    const states = await Promise.all(orphans.map(state));
    throw new Error(e.message + ': ' + JSON.stringify(states.map((s) => [s.transport, s.closed, s.inbox.slice(-1)])));
  };
  await until('every streaming and polling client of the killed node saw a close', async () =>
    (await Promise.all(orphans.filter((c) => !silent.includes(c)).map(state))).every((s) => s.closed !== null), 30000).catch(report);
  for (const c of silent) if ((await state(c)).closed === null) await send(c, 'anyone there?');
  await until('every client of the killed node saw a close', async () => (await Promise.all(orphans.map(state))).every((s) => s.closed !== null), 15000).catch(report);
  await sleep(1500); // haproxy's health checks take the node out
  const reconnected: Client[] = [];
  for (const o of orphans) reconnected.push(await connect(o.transport));
  assert.ok(reconnected.every((c) => c.node !== victim), 'reconnected sessions landed on live nodes');

  const everyone = [...survivors, ...reconnected];
  for (const c of survivors) assert.equal((await state(c)).closed, null, `${c.transport} on ${c.node} survived the other node's death`);
  for (const [k, sender] of [survivors[0]!, reconnected[0]!].entries()) {
    const m = `after the failure ${k}, from ${sender.transport} on ${sender.node}`;
    await send(sender, m);
    await everyoneGets(everyone, m);
  }
  for (const c of everyone) await c.page.evaluate((i) => window.cluster.close(i), c.i);
});

interface ResumableState {
  transport: string;
  /** The nodes that opened the connection, in order (`node:<name>` is the first thing each writes). */
  nodes: string[];
  inbox: string[];
  recovered: { moved: boolean; resent: string[]; directMayBeLost: boolean }[];
  lost: unknown[];
  closed: unknown;
}

async function get(node: string, path: string): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${nodePorts.get(node)!}${path}`);
  return res.text();
}

test('cluster with recovery: a node killed while its room is busy; its clients resume on the others with every room message once, in order', async () => {
  // The first test killed a node: all three run again.
  for (const [n, c] of nodes) if (c.exitCode !== null || c.signalCode !== null) await startNode(n);
  await sleep(1500); // haproxy's health checks bring it back
  const names = [...nodes.keys()];
  const clients: { transport: string; page: Page; i: number; node: string }[] = [];
  for (const t of TRANSPORTS) {
    for (let k = 0; k < 2; k++) {
      const page = await pageFor(t);
      const i = await page.evaluate(([tr, room]) => window.cluster.resumable(tr, room), [t, 'busy'] as const);
      const s = await page.evaluate((j) => window.cluster.rstate(j), i);
      assert.equal(s.transport, t, 'sockjs-client used the transport asked for');
      clients.push({ transport: t, page, i, node: s.nodes[0]! });
    }
  }
  const rstate = (c: (typeof clients)[number]): Promise<ResumableState> => c.page.evaluate((j) => window.cluster.rstate(j), c.i);
  const byNode = names.map((n) => clients.filter((c) => c.node === n).length);
  const victim = names[byNode.indexOf(Math.max(...byNode))]!;
  const orphans = clients.filter((c) => c.node === victim);
  const survivors = clients.filter((c) => c.node !== victim);
  assert.ok(survivors.length > 0, 'sessions on more than one node: ' + JSON.stringify(byNode));

  // The room gets a message every 20 ms from the nodes in turn, the victim included until it dies.
  let n = 0;
  let publishing = true;
  let lastPublished = '';
  const alive = new Set(names);
  const publisher = (async () => {
    while (publishing) {
      const from = [...alive][n % alive.size]!;
      const m = `m${n++}`;
      await get(from, `/pub?room=busy&m=${m}`).then(() => { lastPublished = m; }, () => {});
      await sleep(20);
    }
  })();
  await until('the room busy before the kill', async () => n >= 30, 30_000);
  alive.delete(victim);
  nodes.get(victim)!.kill('SIGKILL');
  const report = async (e: Error): Promise<never> => {
    const states = await Promise.all(orphans.map(rstate));
    throw new Error(e.message + ': ' + JSON.stringify(states.map((s) => [s.transport, s.nodes, s.recovered, s.lost, s.closed, s.inbox.length])));
  };
  await until('every client of the killed node resumed elsewhere', async () =>
    (await Promise.all(orphans.map(rstate))).every((s) => s.recovered.length > 0 || s.lost.length > 0), 60_000).catch(report);
  const more = n + 30;
  await until('more room messages after the resumes', async () => n >= more, 30_000);
  publishing = false;
  await publisher;

  // A survivor never disconnected: what it got is the room's whole history, in the stream's order,
  // once the last message published has reached it (publishing returns before delivery).
  const roomMessages = async (c: (typeof clients)[number]): Promise<string[]> => (await rstate(c)).inbox.filter((m) => /^m\d+$/.test(m));
  await until('the survivor got the last room message', async () => (await roomMessages(survivors[0]!)).includes(lastPublished), 30_000);
  const witness = await roomMessages(survivors[0]!);
  assert.ok(witness.length >= 60, `the room was busy (${witness.length} messages)`);
  const complete = async (): Promise<boolean> => (await Promise.all(clients.map(roomMessages))).every((got) => got.length >= witness.length);
  await until('every client got every room message', complete, 30_000).catch(() => {});
  await sleep(500); // a duplicate would arrive now
  for (const c of clients) {
    const s = await rstate(c);
    assert.deepEqual(await roomMessages(c), witness, `${c.transport} (${c.node}): every room message, once, in order`);
    assert.deepEqual(s.lost, [], `${c.transport} (${c.node}) was never told it lost its connection`);
  }
  for (const c of orphans) {
    const s = await rstate(c);
    const moved = s.recovered.find((r) => r.moved)!;
    assert.ok(moved !== undefined, `${c.transport}: recovered on another node: ` + JSON.stringify(s.recovered));
    // Its node wrote to it directly ("node:…"): the client is told such writes may be lost.
    assert.equal(moved.directMayBeLost, true);
    const now = s.nodes[s.nodes.length - 1]!;
    assert.notEqual(now, victim, `${c.transport} now on a live node`);
    const events = JSON.parse(await get(now, '/events')) as { event: string; id: string; moved?: boolean; directMayBeLost?: boolean; rooms?: string[] }[];
    const resume = events.find((e) => e.event === 'resume' && e.moved === true && events.some((o) => o.event === 'connection' && o.id === e.id && o.rooms?.includes('busy')));
    assert.ok(resume !== undefined, 'the app on the new node saw the connection come back with its room and a moved resume');
  }
  // The app on each new node was told as much, per connection: a 'resume' with moved and directMayBeLost.
  const told = (await Promise.all([...alive].map(async (node) => JSON.parse(await get(node, '/events')) as { event: string; moved?: boolean; directMayBeLost?: boolean }[]))).flat();
  const moves = told.filter((e) => e.event === 'resume' && e.moved === true);
  assert.equal(moves.length, orphans.length, 'one moved resume per client of the killed node');
  assert.ok(moves.every((e) => e.directMayBeLost === true));
  for (const c of clients) await c.page.evaluate((j) => window.cluster.close(j), c.i);
});
