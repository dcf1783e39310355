#!/usr/bin/env node
// What Express costs per HTTP request, with no SockJS code: the same request (an xhr_send-like
// POST under /echo, answered 204) against a bare http.Server, the same server giving req and res
// Express's prototypes first (the first thing an Express app does to a request), and an Express
// app that mounts the same handler, and that app on expressServer(app) (requests and responses
// created with the app's prototypes), driven by the polling bench's lean client (100 keep-alive
// connections, back to back). Reports requests/s and the server's CPU µs per request (from
// /proc), median of the repeats. Each xhr-polling round trip is two requests: under app.listen()
// Express's share alone was more than sockjs-node's whole round trip on this machine, hence
// expressServer(app) (docs/performance.md, "What Express costs").
//   node bench/express-floor.mjs [--repeats N] [--json]
import { spawn } from 'node:child_process';
import path from 'node:path';
import { RawConnection, requestBytes } from './client/rawhttp.mjs';
import { cpuTicks } from './client/util.mjs';
import { ROOT, clockTicks, median, nextPort, stop } from './harness.mjs';

const args = process.argv.slice(2);
const repeats = args.includes('--repeats') ? Number(args[args.indexOf('--repeats') + 1]) : 3;
const json = args.includes('--json');
if (!Number.isInteger(repeats) || repeats < 1) throw new Error('--repeats takes a positive integer');
const CLK = clockTicks();
const CONNECTIONS = 100;
const WARMUP_MS = 1000;
const MEASURE_MS = 3000;

async function startServer(floor) {
  const port = await nextPort();
  const child = spawn(process.execPath, [path.join(ROOT, 'bench/servers/floor.mjs')], {
    cwd: ROOT,
    env: { ...process.env, PORT: String(port), FLOOR: floor, NODE_ENV: 'production' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise((resolve, reject) => {
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (s) => s.includes('listening') && resolve());
    child.once('exit', (code) => reject(new Error(`${floor} floor server exited with ${code}`)));
  });
  return { child, port };
}

async function measure(floor) {
  const { child, port } = await startServer(floor);
  try {
    const bytes = requestBytes(port, 'POST', '/echo/000/floor/xhr_send', Buffer.from('["x"]'));
    let count = 0;
    let running = true;
    let failure = null;
    const lanes = Array.from({ length: CONNECTIONS }, () => new Promise((resolve) => {
      const conn = new RawConnection(port);
      const next = (err, status) => {
        if (err || status !== 204) {
          failure ??= err ?? new Error(`${floor} answered ${status}`);
          running = false;
        } else count++;
        if (running) conn.request(bytes, next);
        else {
          conn.close();
          resolve();
        }
      };
      conn.request(bytes, next);
    }));
    await new Promise((r) => setTimeout(r, WARMUP_MS));
    const n0 = count;
    const t0 = cpuTicks(child.pid);
    const w0 = performance.now();
    await new Promise((r) => setTimeout(r, MEASURE_MS));
    const n = count - n0;
    const cpuS = (cpuTicks(child.pid) - t0) / CLK;
    const seconds = (performance.now() - w0) / 1000;
    running = false;
    await Promise.all(lanes);
    if (failure !== null) throw failure;
    return { requests_per_s: n / seconds, server_cpu_us_per_request: (cpuS * 1e6) / n };
  } finally {
    await stop(child);
  }
}

const FLOORS = ['http', 'proto', 'express', 'born'];
const runs = Object.fromEntries(FLOORS.map((f) => [f, []]));
for (let i = 0; i < repeats; i++) {
  // The order rotates, so that a disturbance does not always hit the same server.
  for (const floor of FLOORS.map((_, k) => FLOORS[(k + i) % FLOORS.length])) {
    const r = await measure(floor);
    runs[floor].push(r);
    process.stderr.write(`[${floor} #${i + 1}] ${Math.round(r.requests_per_s)} req/s, ${r.server_cpu_us_per_request.toFixed(1)} µs/request\n`);
  }
}
const result = {};
for (const floor of FLOORS) {
  result[floor] = {
    requests_per_s: median(runs[floor].map((r) => r.requests_per_s)),
    server_cpu_us_per_request: median(runs[floor].map((r) => r.server_cpu_us_per_request)),
  };
}
if (json) {
  console.log(JSON.stringify({ repeats, runs, median: result }, null, 2));
} else {
  const h = result.http;
  const p = result.proto;
  const e = result.express;
  const b = result.born;
  const row = (label, r) =>
    console.log(`| ${label.padEnd(40)} | ${Math.round(r.requests_per_s).toLocaleString('en-US').padStart(10)} | ${r.server_cpu_us_per_request.toFixed(1).padStart(21)} |`);
  console.log(`| ${'server (no SockJS)'.padEnd(40)} | requests/s | server CPU µs/request |`);
  console.log(`|${'-'.repeat(42)}|-----------:|----------------------:|`);
  row('bare http.Server', h);
  row("bare, req/res given Express's prototypes", p);
  row('Express app, app.use()', e);
  row('the same app on expressServer(app)', b);
  const over = (r) => (r.server_cpu_us_per_request - h.server_cpu_us_per_request).toFixed(1);
  console.log(`Express adds ${over(e)} µs of server CPU per request (median of ${repeats}); switching the prototypes of req and res alone adds ${over(p)} µs; on expressServer(app), Express adds ${over(b)} µs.`);
}
