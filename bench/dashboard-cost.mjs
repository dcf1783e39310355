#!/usr/bin/env node
// What the dashboard costs the server: CPU with N open websocket sessions while no page is open,
// while one page polls once a second, and per snapshot request. The server runs in a child process
// (its CPU is what is measured, with process.cpuUsage()); this process holds the client sockets.
// With --peers N, a redis-server (from the PATH) and N more server processes join the first one
// through the Redis adapter, each with the same number of sessions: the page then shows N + 1
// processes, and the peers' CPU (answering the dashboard's questions) is measured too.
//
//   npm run build --silent && node bench/dashboard-cost.mjs [--sessions 1000] [--seconds 20] [--peers 2]
import { fork, spawn } from 'node:child_process';
import net from 'node:net';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';

const arg = (name, fallback) => {
  const i = process.argv.indexOf('--' + name);
  return i === -1 ? fallback : Number(process.argv[i + 1]);
};

if (process.argv[2] === '--server') {
  const { default: express } = await import('express');
  const { default: sockjs } = await import('../dist/esm/index.js');
  const { dashboard } = await import('../dist/esm/dashboard.js');
  const { Sampler } = await import('../dist/esm/dashboard/snapshot.js');
  const app = express();
  const redis = process.argv[3];
  const adapter = redis === undefined ? undefined : (await import('../dist/esm/redis.js')).redisAdapter({ url: redis, channel: 'chat' });
  const chat = sockjs({ adapter });
  const rooms = ['lobby', 'a', 'b', 'c', 'd'];
  let n = 0;
  chat.on('connection', (c) => c.join(rooms[n++ % rooms.length]).on('data', (m) => c.write(m)));
  app.use('/chat', chat);
  app.use('/admin', dashboard({ chat }));
  // The floor: what any small JSON answer costs through this app.
  app.get('/ping', (_req, res) => res.json({ ok: true }));
  const server = app.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
  chat.attach(server);
  process.on('message', (m) => {
    if (m === 'cpu') process.send({ cpu: process.cpuUsage() });
    if (m === 'snapshots') {
      // The snapshot alone, in CPU time: what the dashboard adds to any request.
      const sampler = new Sampler([{ name: 'chat', router: chat }], 300, 10, false);
      const c0 = process.cpuUsage();
      for (let i = 0; i < 1000; i++) JSON.stringify(sampler.snapshot(1e12 + (i - 1) * 1000, 1e12 + i * 1000));
      const c1 = process.cpuUsage(c0);
      process.send({ us: (c1.user + c1.system) / 1000 });
    }
    if (m === 'ask') {
      // As many questions at once as a process answers in a second (20): what answering costs the others.
      Promise.all(Array.from({ length: 20 }, () => chat.config.adapter.ask('figures', '', 300))).then((all) => process.send({ answers: all.reduce((n, a) => n + a.length, 0) }));
    }
    if (m === 'exit') process.exit(0); // exits cleanly: --cpu-prof writes its profile
  });
} else {
  const SESSIONS = arg('sessions', 1000);
  const SECONDS = arg('seconds', 20);
  const PEERS = arg('peers', 0);
  let redis = null;
  let redisUrl = [];
  if (PEERS > 0) {
    const free = net.createServer().listen(0, '127.0.0.1');
    await new Promise((r) => free.once('listening', r));
    const redisPort = free.address().port;
    free.close();
    redis = spawn('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    for (;;) {
      const ok = await new Promise((r) => net.connect(redisPort, '127.0.0.1').once('connect', function () { this.destroy(); r(true); }).once('error', () => r(false)));
      if (ok) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    redisUrl = [`redis://127.0.0.1:${redisPort}`];
  }
  const start = async () => {
    const c = fork(fileURLToPath(import.meta.url), ['--server', ...redisUrl], { execArgv: process.env.PROF ? ['--cpu-prof', '--cpu-prof-dir=' + process.env.PROF] : [] });
    const next = () => new Promise((resolve) => c.once('message', resolve));
    const { port: p } = await next();
    return { c, next, port: p };
  };
  const servers = [];
  for (let i = 0; i <= PEERS; i++) servers.push(await start());
  const [{ c: child, next, port }] = servers;
  const cpuOf = async (s) => {
    s.c.send('cpu');
    const { cpu: c } = await s.next();
    return (c.user + c.system) / 1000;
  };
  const cpu = () => cpuOf(servers[0]);
  const peersCpu = async () => (await Promise.all(servers.slice(1).map(cpuOf))).reduce((a, b) => a + b, 0);
  const sockets = [];
  for (const s of servers) {
    for (let i = 0; i < SESSIONS; i++) {
      const ws = new WebSocket(`ws://127.0.0.1:${s.port}/chat/000/${randomUUID()}/websocket`);
      await new Promise((resolve, reject) => ws.once('message', resolve).once('error', reject));
      sockets.push(ws);
    }
  }
  // As the page does: after the first answer, only the samples it does not have yet.
  let since = 0;
  const snapshot = async () => {
    const r = await fetch(`http://127.0.0.1:${port}/admin/api/snapshot?since=${since}`);
    const body = await r.json();
    if (body.samples.length > 0) since = body.samples.at(-1).t;
    return body;
  };
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const over = async (what, body) => {
    const c0 = await cpu();
    const p0 = await peersCpu();
    const t0 = Date.now();
    await body();
    const ms = (await cpu()) - c0;
    const pms = (await peersCpu()) - p0;
    const s = (Date.now() - t0) / 1000;
    const peers = PEERS > 0 ? `; the ${PEERS} other process(es): ${((pms / PEERS / s / 1000) * 100).toFixed(2)} % of a core each` : '';
    console.log(`${what}: ${ms.toFixed(1)} ms CPU in ${s.toFixed(1)} s = ${((ms / s / 1000) * 100).toFixed(2)} % of a core${peers}`);
    return ms;
  };
  await sleep(2000);
  console.log(`${SESSIONS} open websocket sessions (5 rooms) per process, ${PEERS + 1} process(es)${PEERS > 0 ? ' joined by the Redis adapter' : ''}, server on Node ${process.version}`);
  await over('no page open', () => sleep(SECONDS * 1000));
  let last;
  await over('one page polling every second', async () => {
    for (let i = 0; i < SECONDS; i++) {
      last = await snapshot();
      await sleep(1000);
    }
  });
  if (PEERS > 0) console.log(`the page shows ${last.processes.length} processes (${last.cluster.services[0].sessions[0]} sessions in the cluster)`);
  since = 0;
  const first = await snapshot();
  console.log(`a page's first request (${first.samples.length} samples of history): ${JSON.stringify(first).length} bytes`);
  const N = 500;
  const ms = await over(`${N} snapshot requests back to back`, async () => {
    for (let i = 0; i < N; i++) last = await snapshot();
  });
  const floor = await over(`${N} requests of a small JSON route of the same app, for comparison`, async () => {
    for (let i = 0; i < N; i++) await (await fetch(`http://127.0.0.1:${port}/ping`)).json();
  });
  console.log(`per snapshot request (HTTP, Express, JSON included): ${((ms / N) * 1000).toFixed(0)} µs CPU, of which above the floor: ${(((ms - floor) / N) * 1000).toFixed(0)} µs; the snapshot itself (cost_us, wall clock): ${last.cost_us} µs; response ${JSON.stringify(last).length} bytes`);
  if (PEERS > 0) {
    let answers = 0;
    const p0 = await peersCpu();
    const c0 = await cpu();
    for (let i = 0; i < 10; i++) {
      child.send('ask');
      answers += (await next()).answers;
      await sleep(1000);
    }
    const pms = (await peersCpu()) - p0;
    const cms = (await cpu()) - c0;
    console.log(`${answers} answers to 200 questions: ${((pms / answers) * 1000).toFixed(0)} µs CPU per answer in the answering process (its heartbeats included), ${((cms / 10) * 1000).toFixed(0)} µs per 20 questions and their answers in the asking one`);
  }
  for (const ws of sockets) ws.terminate();
  child.send('snapshots');
  const { us } = await next();
  console.log(`the snapshot alone (figures and JSON, one sample each), in the server: ${us.toFixed(0)} µs CPU`);
  for (const s of servers) s.c.send('exit');
  redis?.kill();
}
