// Two builds or variants of ours on the chat fan-out, measured at once: both servers run on one
// CPU, the load generator on the other, and blocks of traffic alternate between them, so that
// both see the same machine. `npm run bench` measures each server in runs of its own, minutes
// apart; on a shared VM one server's CPU per delivery moves by a quarter between such runs,
// which hides a change of a few percent. Here two servers of one build differ by up to ~9% in one
// order (the second started tends to measure faster), so run both orders: --both does, and
// prints the ratio corrected for the order (the geometric mean of B/A and the inverse of A/B).
//
//   node bench/side-by-side.mjs [--shape rounds|chat] [--blocks N] [--both] [--pairs N] [--json] A B
//
// One server process can run a hot path several percent slower than another of the same build
// (`ws`'s frame sender was seen at three times its usual cost in one process of a pair, from a
// JIT state that differs from process to process), and more blocks do not average that out:
// --pairs N repeats the comparison with fresh processes and prints the median ratio.
//
// A and B: `ours` or `ours+recovery`, optionally `@<rev>` (built like --baseline in run.mjs).
// Shapes: `rounds`, one frame of 5 messages into each of the 20 rooms per round, the next round
// when all are delivered (as `chat-burst`); `chat`, 200 messages in flight, each client message a
// frame of its own from the next session in turn (as `chat`). 1,000 sessions in 20 rooms; each
// block is 50,000 deliveries. Linux only (taskset, /proc). BENCH_SERVER_NODE_ARGS are added to
// both servers' node flags, as in run.mjs (--cpu-prof ...). --json: the report goes to stderr and
// one JSON line to stdout (`npm run bench`'s `recovery-cost` rows run it so, one pair per repeat).
import { spawn, execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { prepareBaseline } from './baseline.mjs';
import { clockTicks, median, nextPort, serverNodeFlags, stop } from './harness.mjs';
import { cpuTicks } from './client/util.mjs';
import { Sock, openSocks, wsUrl } from './client/wsock.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const SESSIONS = 1000;
const ROOMS = 20;
const BURST = 5;
const BLOCK = 50_000;
const WINDOW = 200;

function parseArgs(argv) {
  const o = { shape: 'rounds', blocks: 40, both: false, pairs: 1, json: false, specs: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--shape') o.shape = argv[++i];
    else if (a === '--blocks') o.blocks = Number(argv[++i]);
    else if (a === '--both') o.both = true;
    else if (a === '--json') o.json = true;
    else if (a === '--pairs') o.pairs = Number(argv[++i]);
    else o.specs.push(a);
  }
  if (o.specs.length !== 2 || !['rounds', 'chat'].includes(o.shape) || !(o.blocks > 0) || !Number.isInteger(o.pairs) || o.pairs < 1) {
    throw new Error('usage: node bench/side-by-side.mjs [--shape rounds|chat] [--blocks N] [--both] [--pairs N] [--json] A B   (A, B: ours or ours+recovery, optionally @<rev>)');
  }
  return o;
}

/** A server for `spec`, pinned to CPU 0, with its sessions joined to their rooms. */
async function start(spec) {
  const [variant, rev] = spec.split('@');
  if (variant !== 'ours' && variant !== 'ours+recovery') throw new Error(`unknown server ${variant}`);
  const dist = rev !== undefined ? prepareBaseline(rev, () => {}).dist : '';
  const recovery = variant === 'ours+recovery';
  const port = await nextPort();
  const child = spawn('taskset', ['-c', '0', process.execPath, ...serverNodeFlags(), path.join(HERE, 'servers/app-ours.mjs')], {
    env: { ...process.env, PORT: String(port), NODE_ENV: 'production', BENCH_MOUNT: 'express', BENCH_RECOVERY: recovery ? '1' : '', BENCH_DIST: dist },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  await new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${spec} exited (${code}) before listening`)));
    child.stdout.on('data', (d) => {
      out += d;
      if (out.includes('listening')) resolve();
    });
  });
  const socks = await openSocks(SESSIONS, 100, () => new Sock(wsUrl(port, 'chat', 'sockjs', recovery), 'sockjs', null, { recovery }));
  await Promise.all(socks.map((s, i) => new Promise((resolve) => {
    s.onData = () => resolve();
    s.send(JSON.stringify([JSON.stringify({ join: `r${i % ROOMS}`, name: `u${i}` })]));
  })));
  const server = { spec, child, socks, delivered: 0, frames: 0, cpu: 0, counted: 0, onDelivery: null, round: 0, sender: 0 };
  for (const s of socks) {
    // The count comes from the session, which counts the same way for both servers.
    s.exact = true;
    s.onData = (data, n) => {
      server.frames++;
      server.delivered += n;
      server.onDelivery?.();
    };
  }
  return server;
}

/** Runs traffic in `shape` until `deliveries` more have arrived (whole rounds, or whole messages). */
function block(server, shape, deliveries) {
  const size = SESSIONS / ROOMS;
  const end = server.delivered + deliveries;
  return new Promise((resolve) => {
    let due = server.delivered;
    let sent = 0;
    const more = () => {
      if (server.delivered >= end && server.delivered >= due) {
        server.onDelivery = null;
        resolve();
      } else if (shape === 'rounds') {
        if (server.delivered < due) return;
        due = server.delivered + ROOMS * BURST * size;
        const from = (server.round++ * 7) % size;
        for (let r = 0; r < ROOMS; r++) {
          const texts = Array.from({ length: BURST }, (_, k) => JSON.stringify({ text: `m${server.round}.${k}` }));
          server.socks[from * ROOMS + r].send(JSON.stringify(texts));
        }
      } else {
        // `due`: what the messages sent so far deliver; at most WINDOW of them outstanding.
        for (let inFlight = (due - server.delivered) / size; inFlight < WINDOW && due < end; inFlight++, due += size) {
          server.socks[server.sender].send(JSON.stringify([JSON.stringify({ text: `m${++sent}` })]));
          server.sender = (server.sender + 1) % SESSIONS;
        }
      }
    };
    server.onDelivery = more;
    more();
  });
}

/** One A/B run: warm-up, then `blocks` blocks each, alternating (ABBA…); the CPU µs per delivery of each. */
async function run(specA, specB, shape, blocks) {
  const a = await start(specA);
  const b = await start(specB);
  try {
    for (const s of [a, b]) await block(s, shape, 4 * BLOCK);
    for (let i = 0; i < blocks; i++) {
      for (const s of i % 2 === 0 ? [a, b] : [b, a]) {
        const t0 = cpuTicks(s.child.pid);
        const d0 = s.delivered;
        await block(s, shape, BLOCK);
        s.cpu += cpuTicks(s.child.pid) - t0;
        s.counted += s.delivered - d0;
      }
    }
    const hz = clockTicks();
    const us = (s) => (s.cpu / hz) * 1e6 / s.counted;
    return { a: us(a), b: us(b), perFrame: [a, b].map((s) => s.delivered / s.frames) };
  } finally {
    for (const s of [a, b]) {
      for (const x of s.socks) x.terminate();
      await stop(s.child);
    }
  }
}

const o = parseArgs(process.argv.slice(2));
execFileSync('taskset', ['-p', '-c', '1', String(process.pid)], { stdio: 'ignore' });
const [A, B] = o.specs;
const say = o.json ? (line) => process.stderr.write(line + '\n') : (line) => console.log(line);
const runs = [];
const show = (x, y, r) => say(`${x} ${r.a.toFixed(3)} µs/delivery, ${y} ${r.b.toFixed(3)}: ${y}/${x} ${(r.b / r.a).toFixed(3)} (deliveries per frame ${r.perFrame.map((f) => f.toFixed(2)).join(' / ')})`);
const ratios = [];
for (let p = 0; p < o.pairs; p++) {
  const r1 = await run(A, B, o.shape, o.blocks);
  runs.push({ order: [A, B], us_per_delivery: [r1.a, r1.b], per_frame: r1.perFrame });
  show(A, B, r1);
  let ratio = r1.b / r1.a;
  if (o.both) {
    const r2 = await run(B, A, o.shape, o.blocks);
    runs.push({ order: [B, A], us_per_delivery: [r2.a, r2.b], per_frame: r2.perFrame });
    show(B, A, r2);
    ratio = Math.sqrt((r1.b / r1.a) * (r2.a / r2.b));
    say(`${B}/${A}, corrected for the order: ${ratio.toFixed(3)}`);
  }
  ratios.push(ratio);
}
const sorted = [...ratios].sort((x, y) => x - y);
if (o.pairs > 1) {
  say(`${B}/${A}${o.both ? ', corrected for the order' : ''}, median of ${o.pairs} fresh process pairs: ${median(sorted).toFixed(3)} (${sorted.map((r) => r.toFixed(3)).join(', ')})`);
}
if (o.json) {
  // Each run's servers in their order, with their µs per delivery; `ratio`: B/A (corrected for the order with --both).
  process.stdout.write(JSON.stringify({ a: A, b: B, shape: o.shape, blocks: o.blocks, ratio: median(sorted), ratios, runs }) + '\n');
}
process.exit(0);
