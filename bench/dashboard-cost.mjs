#!/usr/bin/env node
// What the dashboard costs the server: CPU with N open websocket sessions while no page is open,
// while one page polls once a second, and per snapshot request. The server runs in a child process
// (its CPU is what is measured, with process.cpuUsage()); this process holds the client sockets.
//
//   npm run build --silent && node bench/dashboard-cost.mjs [--sessions 1000] [--seconds 20]
import { fork } from 'node:child_process';
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
  const chat = sockjs();
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
    if (m === 'exit') process.exit(0); // exits cleanly: --cpu-prof writes its profile
  });
} else {
  const SESSIONS = arg('sessions', 1000);
  const SECONDS = arg('seconds', 20);
  const child = fork(fileURLToPath(import.meta.url), ['--server'], { execArgv: process.env.PROF ? ['--cpu-prof', '--cpu-prof-dir=' + process.env.PROF] : [] });
  const next = () => new Promise((resolve) => child.once('message', resolve));
  const { port } = await next();
  const cpu = async () => {
    child.send('cpu');
    const { cpu: c } = await next();
    return (c.user + c.system) / 1000;
  };
  const sockets = [];
  for (let i = 0; i < SESSIONS; i++) {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/chat/000/${randomUUID()}/websocket`);
    await new Promise((resolve, reject) => ws.once('message', resolve).once('error', reject));
    sockets.push(ws);
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
    const t0 = Date.now();
    await body();
    const ms = (await cpu()) - c0;
    const s = (Date.now() - t0) / 1000;
    console.log(`${what}: ${ms.toFixed(1)} ms CPU in ${s.toFixed(1)} s = ${((ms / s / 1000) * 100).toFixed(2)} % of a core`);
    return ms;
  };
  await sleep(2000);
  console.log(`${SESSIONS} open websocket sessions (5 rooms), server on Node ${process.version}`);
  await over('no page open', () => sleep(SECONDS * 1000));
  let last;
  await over('one page polling every second', async () => {
    for (let i = 0; i < SECONDS; i++) {
      last = await snapshot();
      await sleep(1000);
    }
  });
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
  for (const ws of sockets) ws.terminate();
  child.send('snapshots');
  const { us } = await next();
  console.log(`the snapshot alone (figures and JSON, one sample each), in the server: ${us.toFixed(0)} µs CPU`);
  child.send('exit');
}
