// What the benchmark drivers (run.mjs, cluster/fanout.mjs) share: the machine's limits, the
// state of the build, free ports, and stopping child processes.
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export function shellLimits() {
  const out = execFileSync('/bin/sh', ['-c', 'ulimit -Sn; ulimit -Hn'], { encoding: 'utf8' }).trim().split('\n');
  const parse = (s) => (s === 'unlimited' ? Infinity : Number(s));
  return { soft: parse(out[0]), hard: parse(out[1]) };
}

/** The node flags every bench server starts with: --expose-gc, plus BENCH_SERVER_NODE_ARGS (e.g. --cpu-prof ...). */
export function serverNodeFlags() {
  return ['--expose-gc', ...(process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean)];
}

/** Clock ticks per second, the unit of CPU times in /proc. */
export function clockTicks() {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
}

/**
 * The machine's CPU time so far, from the `cpu` line of /proc/stat, with the part the hypervisor
 * gave to other guests (steal). On a shared VM, steal is why the same run differs by 20-40%
 * from one minute to the next. Null where /proc/stat is missing.
 */
export function cpuTimes() {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1, 9).map(Number);
    return { total: f.reduce((a, b) => a + b, 0), steal: f[7] ?? 0 };
  } catch {
    return null;
  }
}

/** The median of the finite numbers among `values`; null when there are none. */
export function median(values) {
  const v = values.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

/** True when a file under lib/ is newer than the build: the figures would not be the code's. */
export function distIsStale() {
  const newest = (dir) => {
    let t = 0;
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, entry.name);
      t = Math.max(t, entry.isDirectory() ? newest(p) : statSync(p).mtimeMs);
    }
    return t;
  };
  return newest(path.join(ROOT, 'lib')) > statSync(path.join(ROOT, 'dist/esm/index.js')).mtimeMs;
}

/** The short commit, with `+lib-changes` when lib/ has uncommitted changes; null outside git. */
export function gitCommit() {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'lib'], { cwd: ROOT, encoding: 'utf8' }).trim() !== '';
    return head + (dirty ? '+lib-changes' : '');
  } catch {
    return null;
  }
}

// A fresh port for every server start (outside the ephemeral range, so closed connections in
// TIME_WAIT from earlier runs never collide with new ones).
let portCursor = 21_000 + (process.pid % 400) * 20;
function portFree(port) {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}
export async function nextPort() {
  for (;;) {
    const port = portCursor++;
    if (portCursor > 32_000) portCursor = 21_000;
    if (await portFree(port)) return port;
  }
}

/** Resolves when the child has exited, or could not be spawned (then 'exit' may never come). */
export function exited(child) {
  if (child.exitCode !== null || child.signalCode !== null || child.spawnError) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', resolve);
    child.once('error', resolve);
  });
}

/** SIGTERM, then SIGKILL after 3 s. */
export async function stop(child) {
  if (child.exitCode !== null || child.signalCode !== null || child.spawnError) return;
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), 3000);
  await exited(child);
  clearTimeout(t);
}
