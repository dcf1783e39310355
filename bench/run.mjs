#!/usr/bin/env node
// `npm run bench`: sockjs-express (ours) side by side with sockjs-node, a raw `ws` server and (in the
// application-shaped scenarios) socket.io 4.
//
// Each server runs as its own child process (bench/servers/*), fresh for every measurement; one
// load generator process (bench/client/load.mjs) drives it and reports JSON back. The server's
// CPU time is read from /proc/<pid>/stat, its memory from GET /__mem after forced GCs.
//
//   npm run bench                       all scenarios, median of 3 repeats
//   npm run bench -- --quick            short windows, fewer variants, 1 repeat (under a minute)
//   npm run bench -- --only ws-echo,broadcast --servers ours,ws
//   npm run bench -- --json             raw results as JSON on stdout
//   npm run bench -- --repeats 5
//   BENCH_SERVER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" npm run bench -- --only app-churn --servers ours
import { spawn, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildScenarios, SERVER_NAMES } from './scenarios.mjs';
import { ROOT, clockTicks, cpuTimes, distIsStale, exited, gitCommit, median, nextPort, shellLimits, stop } from './harness.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const SERVER_FILES = {
  ours: 'servers/ours.mjs',
  sockjs: 'servers/sockjs-node.cjs',
  ws: 'servers/ws.mjs',
  sio: 'servers/app-sio.mjs',
  // Only for idle-xhr, and only when asked for (--servers ...,floor): Node's own floor.
  floor: 'servers/http-floor.mjs',
};
const SERVER_KIND = { ours: 'sockjs', sockjs: 'sockjs', ws: 'ws', sio: 'sio', floor: 'sockjs' };
// The application-shaped scenarios (`app: true`) run the same app on every server: for ours and
// sockjs-node the standard test server with all its services, plus /rpc and /chat.
const APP_SERVER_FILES = {
  ours: 'servers/app-ours.mjs',
  sockjs: 'servers/app-sockjs.cjs',
  ws: 'servers/app-ws.mjs',
  sio: 'servers/app-sio.mjs',
};
const MOUNT_LABELS = {
  express: 'in an Express app on expressServer(app)',
  listen: 'in an Express app on http.createServer(app), as app.listen()',
  http: 'on the http.Server (installHandlers)',
};
// How "ours" is mounted (--mount); servers/ours.mjs reads it from BENCH_MOUNT.
let MOUNT = 'express';

// ------------------------------------------------------------------------------------------------
// Command line

function usage() {
  return `usage: node bench/run.mjs [--quick] [--json] [--repeats N] [--only a,b] [--servers ours,sockjs,ws,floor] [--list]
  --quick      short windows, reduced matrix, 1 repeat (finishes in under a minute)
  --json       print raw results as JSON on stdout (the table goes to stderr)
  --repeats N  repeats per scenario and server; the median is reported (default 3, quick 1)
  --only X     scenarios whose id or group starts with one of the comma-separated X
  --servers S  comma-separated subset of: ours, sockjs, ws, sio (socket.io 4: in the
               application-shaped scenarios only), floor (a bare http.Server holding
               the streams open: measured in idle-xhr only, and only when named here)
  --mount M    how "ours" is mounted: express (default: in an Express app served by
               expressServer(app), as the README recommends), listen (the same app on
               http.createServer(app), which is what app.listen() does) or http (installHandlers
               on the http.Server, as sockjs-node is: like for like)
  --list       list the scenarios and exit`;
}

function parseArgs(argv) {
  const opts = { quick: false, json: false, repeats: null, only: null, servers: ['ours', 'sockjs', 'ws', 'sio'], list: false, mount: 'express' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value\n${usage()}`);
      return v;
    };
    const name = a.split('=')[0];
    if (name === '--quick') opts.quick = true;
    else if (name === '--json') opts.json = true;
    else if (name === '--list') opts.list = true;
    else if (name === '--mount') {
      const m = value();
      if (!Object.hasOwn(MOUNT_LABELS, m)) throw new Error(`--mount takes express, listen or http\n${usage()}`);
      // "ours" mounted in an Express app (the default, as users mount it; on expressServer(app)
      // or, with listen, on http.createServer(app)) or straight on the http.Server like
      // sockjs-node (the library's own cost, like for like).
      SERVER_FILES.ours = m === 'http' ? 'servers/ours-http.mjs' : 'servers/ours.mjs';
      opts.mount = m;
      MOUNT = m;
    }
    else if (name === '--repeats') opts.repeats = Number(value());
    else if (name === '--only') opts.only = value().split(',').map((s) => s.trim()).filter(Boolean);
    else if (name === '--servers') {
      const alias = { 'sockjs-node': 'sockjs', 'socket.io': 'sio' };
      opts.servers = value().split(',').map((s) => s.trim()).map((s) => alias[s] ?? s);
      for (const s of opts.servers) if (!SERVER_FILES[s]) throw new Error(`unknown server ${s}\n${usage()}`);
    } else if (name === '--help' || name === '-h') {
      console.log(usage());
      process.exit(0);
    } else throw new Error(`unknown argument ${a}\n${usage()}`);
  }
  if (opts.repeats === null) opts.repeats = opts.quick ? 1 : 3;
  if (!Number.isInteger(opts.repeats) || opts.repeats < 1) throw new Error('--repeats takes a positive integer');
  return opts;
}

// ------------------------------------------------------------------------------------------------
// Environment

const log = (...args) => process.stderr.write(args.join(' ') + '\n');

// ------------------------------------------------------------------------------------------------
// Child processes

/** Spawns `node <args>` through sh so that the file-descriptor limit can be raised first (exec keeps the pid). */
function spawnNode(args, { fds, env, stdio }) {
  return spawn('/bin/sh', ['-c', `ulimit -n ${fds} 2>/dev/null; exec "$0" "$@"`, process.execPath, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio,
  });
}

async function startServer(name, fds, app) {
  const port = await nextPort();
  const file = app ? APP_SERVER_FILES[name] : SERVER_FILES[name];
  const child = spawnNode(['--expose-gc', ...(process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean), path.join(HERE, file)], {
    fds,
    env: { PORT: String(port), NODE_ENV: 'production', BENCH_MOUNT: MOUNT },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${name} server did not start in 15 s`)), 15_000);
    const onData = (chunk) => {
      out += chunk;
      if (out.includes('listening')) {
        clearTimeout(timer);
        child.stdout.off('data', onData);
        child.stdout.resume();
        resolve();
      }
    };
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} server exited with ${code} before listening`));
    });
  });
  return { child, port, pid: child.pid };
}

async function runClient(config, fds, deadlineMs) {
  const child = spawnNode([path.join(HERE, 'client/load.mjs'), JSON.stringify({ ...config, deadlineMs })], {
    fds,
    env: {},
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (c) => (out += c));
  const killer = setTimeout(() => child.kill('SIGKILL'), deadlineMs + 10_000);
  await exited(child);
  clearTimeout(killer);
  const line = out.trim().split('\n').pop();
  try {
    return JSON.parse(line);
  } catch {
    return { ok: false, error: `client printed no result (exit ${child.exitCode ?? child.signalCode}): ${out.slice(-300)}` };
  }
}

async function measureOnce(scenario, server, env) {
  const srv = await startServer(server, env.fds, scenario.app === true);
  try {
    const config = {
      scenario: scenario.client,
      params: scenario.params,
      server: { name: server, kind: SERVER_KIND[server], port: srv.port, pid: srv.pid },
      clkTck: env.clkTck,
    };
    const result = await runClient(config, env.fds, env.deadlineMs);
    if (srv.child.exitCode !== null || srv.child.signalCode !== null) {
      return { ok: false, error: `${server} server died during the run (${srv.child.exitCode ?? srv.child.signalCode})` };
    }
    return result;
  } finally {
    await stop(srv.child);
  }
}

// ------------------------------------------------------------------------------------------------
// Aggregation and the table

function fmt(value, kind) {
  if (value === null || value === undefined) return '–';
  if (kind === 'int') return Math.round(value).toLocaleString('en-US');
  if (kind === 'us') return value.toFixed(value < 10 ? 2 : 1);
  if (kind === 'ms') return value.toFixed(value < 1 ? 3 : 2);
  if (kind === 'kib') return value.toFixed(Math.abs(value) < 10 ? 2 : 1);
  return String(value);
}

// Runs of one cell whose largest and smallest figures differ by more than this factor are
// marked: the median is then whichever run the machine allowed, quiet or noisy.
const NOISY_SPREAD = 1.25;

/** Largest over smallest of the positive figures of a cell's runs; null with fewer than two. */
function spreadOf(values) {
  const v = values.filter((x) => typeof x === 'number' && Number.isFinite(x) && x > 0);
  if (v.length < 2) return null;
  return Math.max(...v) / Math.min(...v);
}

function ratio(a, b) {
  if (typeof a !== 'number' || typeof b !== 'number' || b === 0) return null;
  return a / b;
}

function judge(metric, values, ratios) {
  if (metric.targets) {
    const each = metric.targets.map((target) => judge({ target }, values, ratios));
    const pass = each.some((j) => j.pass === 'FAIL') ? 'FAIL' : each.some((j) => j.pass === 'n/a') ? 'n/a' : 'PASS';
    return { target: each.map((j) => j.target).join(' & '), pass };
  }
  const t = metric.target;
  if (!t) return { target: '', pass: '' };
  if (t.vs) {
    const other = SERVER_NAMES[t.vs];
    const label = `${t.op}${t.value}× ${other}`;
    const r = ratios[t.vs];
    if (r === null || r === undefined) return { target: label, pass: 'n/a' };
    const ok = t.op === '>=' ? r >= t.value : r <= t.value;
    return { target: label, pass: ok ? 'PASS' : 'FAIL' };
  }
  const label = (t.abs === '±' ? `within ±${t.value} ${t.unit}` : `${t.abs}${t.value} ${t.unit}`).trim();
  const v = values.ours;
  if (typeof v !== 'number') return { target: label, pass: 'n/a' };
  const ok = t.abs === '±' ? Math.abs(v) <= t.value : t.abs === '<=' ? v <= t.value : v >= t.value;
  return { target: label, pass: ok ? 'PASS' : 'FAIL' };
}

function buildRows(scenarios, results, servers) {
  const rows = [];
  for (const sc of scenarios) {
    for (const m of sc.metrics) {
      const values = {};
      const clientBound = {};
      const noisy = {};
      for (const s of servers) {
        const r = results[sc.id]?.[s];
        values[s] = r ? r.median[m.key] ?? null : undefined;
        clientBound[s] = r ? r.clientBound : false;
        noisy[s] = r ? (r.spread[m.key] ?? 1) > NOISY_SPREAD : false;
      }
      const ratios = { ws: ratio(values.ours, values.ws), sockjs: ratio(values.ours, values.sockjs), sio: ratio(values.ours, values.sio) };
      const { target, pass } = judge(m, values, ratios);
      rows.push({ scenario: sc.id, metric: m.label, key: m.key, better: m.better, values, ratios, target, pass,
        clientBound: m.throughput ? clientBound : {}, noisy, fmt: m.fmt });
    }
  }
  return rows;
}

function renderTable(rows, servers) {
  const head = ['scenario', 'metric', ...servers.map((s) => SERVER_NAMES[s])];
  const ratioCols = [];
  if (servers.includes('ours') && servers.includes('ws')) ratioCols.push('ws');
  if (servers.includes('ours') && servers.includes('sockjs')) ratioCols.push('sockjs');
  if (servers.includes('ours') && servers.includes('sio')) ratioCols.push('sio');
  for (const r of ratioCols) head.push(`ours/${SERVER_NAMES[r]}`);
  head.push('target', 'pass');
  const body = rows.map((row) => [
    row.scenario,
    row.metric,
    ...servers.map((s) => {
      const v = row.values[s];
      if (v === undefined) return 'n/a';
      return fmt(v, row.fmt) + (row.clientBound[s] ? ' †' : '') + (row.noisy[s] ? ' ~' : '');
    }),
    ...ratioCols.map((r) => (row.ratios[r] === null ? '–' : row.ratios[r].toFixed(2) + '×')),
    row.target,
    row.pass,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => String(b[i]).length)));
  const numeric = (i) => i >= 2 && i < head.length - 2;
  const line = (cells) => '| ' + cells.map((c, i) => (numeric(i) ? String(c).padStart(widths[i]) : String(c).padEnd(widths[i]))).join(' | ') + ' |';
  const sep = '|' + widths.map((w, i) => (numeric(i) ? '-'.repeat(w + 1) + ':' : '-'.repeat(w + 2))).join('|') + '|';
  return [line(head), sep, ...body.map(line)].join('\n');
}

// ------------------------------------------------------------------------------------------------
// Main

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  let scenarios = buildScenarios({ quick: opts.quick });
  if (opts.list) {
    for (const s of scenarios) console.log(`${s.id.padEnd(22)} ${s.title}`);
    return;
  }
  if (opts.only) {
    scenarios = scenarios.filter((s) => opts.only.some((o) => s.id.startsWith(o) || s.group === o));
    if (scenarios.length === 0) throw new Error(`--only ${opts.only.join(',')} matches no scenario (see --list)`);
  }

  const servers = [...opts.servers];
  const notes = [];
  const dist = path.join(ROOT, 'dist/esm/index.js');
  if (servers.includes('ours')) {
    if (!existsSync(dist)) {
      servers.splice(servers.indexOf('ours'), 1);
      notes.push('ours: dist/esm/index.js is missing (run `npm run build`); ours was not measured.');
    } else if (existsSync(path.join(ROOT, 'lib')) && distIsStale()) {
      notes.push('ours: dist/ is older than lib/ — run `npm run build` to bench the current code.');
    }
  }
  if (servers.length === 0) throw new Error('no server left to measure');

  // File descriptors: every session is one socket in the server and one in the client.
  const limits = shellLimits();
  const need = Math.max(...scenarios.map((s) => s.maxFds)) + 512;
  const fds = Math.min(limits.hard, Math.max(limits.soft, need));
  if (fds < need) {
    const cap = fds - 512;
    notes.push(`ulimit -n allows ${fds} descriptors: session counts capped at ${cap}.`);
    for (const s of scenarios) {
      if (s.params.sessions > cap) {
        s.params = { ...s.params, sessions: cap };
        s.id += ` (capped ${cap})`;
      }
    }
  }
  log(`file descriptors: ${need} needed (the largest scenario's sessions + 512), soft limit ${limits.soft}, hard ${limits.hard}: children run with ulimit -n ${fds}`);
  const env = { fds, clkTck: clockTicks(), deadlineMs: opts.quick ? 30_000 : 180_000 };
  for (const n of notes) log('note: ' + n);

  // Other work on the machine moves throughput and latency (CPU µs per message much less).
  const loadAtStart = os.loadavg()[0];
  if (loadAtStart > os.cpus().length * 0.5) {
    notes.push(`load average was ${loadAtStart.toFixed(2)} at the start (${os.cpus().length} CPUs): other processes compete; trust CPU µs and memory figures over rates and latencies.`);
    log('note: ' + notes[notes.length - 1]);
  }
  const loads = [];
  const cpuAtStart = cpuTimes();
  const started = Date.now();
  const results = {};
  const jobs = [];
  for (const sc of scenarios) {
    const scServers = servers.filter((s) => sc.servers.includes(s));
    for (let r = 0; r < opts.repeats; r++) {
      // Rotate the order per repeat so no server always runs first (or right after another).
      const order = scServers.map((_, i) => scServers[(i + r) % scServers.length]);
      for (const s of order) jobs.push({ sc, server: s, repeat: r });
    }
  }
  let i = 0;
  for (const { sc, server, repeat } of jobs) {
    i++;
    loads.push(os.loadavg()[0]);
    const t0 = Date.now();
    let res;
    try {
      res = await measureOnce(sc, server, env);
    } catch (err) {
      res = { ok: false, error: String(err?.message ?? err) };
    }
    const slot = ((results[sc.id] ??= {})[server] ??= { runs: [], errors: [] });
    if (res.ok) slot.runs.push(res);
    else slot.errors.push(res.error);
    const head = sc.metrics[0];
    const shown = res.ok ? `${fmt(res.metrics[head.key], head.fmt)} ${head.label}` : `ERROR ${String(res.error).split('\n')[0]}`;
    log(`[${i}/${jobs.length}] ${sc.id} · ${SERVER_NAMES[server]} #${repeat + 1}: ${shown} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  }

  for (const sc of scenarios) {
    for (const [server, slot] of Object.entries(results[sc.id] ?? {})) {
      slot.median = {};
      slot.spread = {};
      for (const m of sc.metrics) {
        const values = slot.runs.map((r) => r.metrics[m.key]);
        slot.median[m.key] = median(values);
        slot.spread[m.key] = spreadOf(values);
      }
      // The client is the likely bottleneck when it used (nearly) a whole core.
      slot.clientBound = median(slot.runs.map((r) => r.info?.client_cpu_pct)) > 90;
      if (slot.runs.length === 0) {
        delete results[sc.id][server];
        notes.push(`${sc.id} · ${SERVER_NAMES[server]}: every run failed: ${slot.errors[0]}`);
      } else if (slot.errors.length) {
        notes.push(`${sc.id} · ${SERVER_NAMES[server]}: ${slot.errors.length} run(s) failed: ${slot.errors[0].split('\n')[0]}`);
      }
    }
  }
  const rows = buildRows(scenarios, results, servers);
  const cpuAtEnd = cpuTimes();
  const stealPct = cpuAtStart && cpuAtEnd && cpuAtEnd.total > cpuAtStart.total
    ? (100 * (cpuAtEnd.steal - cpuAtStart.steal)) / (cpuAtEnd.total - cpuAtStart.total)
    : null;
  if (stealPct !== null && stealPct >= 3) {
    notes.push(`the hypervisor took ${stealPct.toFixed(1)}% of this machine's CPU time during the run (steal): other guests share its cores, so every figure moves between repeats more than usual; compare ratios, not absolute figures, and prefer more --repeats.`);
  }
  const meta = {
    date: new Date().toISOString(),
    node: process.version,
    cpus: os.cpus().length,
    cpu_model: os.cpus()[0]?.model ?? null,
    commit: gitCommit(),
    mode: opts.quick ? 'quick' : 'full',
    repeats: opts.repeats,
    servers: servers.map((s) => SERVER_NAMES[s]),
    fd_limit: fds,
    seconds: (Date.now() - started) / 1000,
    loadavg_1min: { start: loadAtStart, median: median(loads), max: Math.max(...loads) },
    cpu_steal_pct: stealPct,
    notes,
  };

  const table = renderTable(rows, servers);
  const footer = [
    '',
    `${meta.mode} mode, "ours" mounted ${MOUNT_LABELS[opts.mount]}, median of ${opts.repeats} run(s) per cell; ${meta.cpus} CPUs (${meta.cpu_model}), Node ${meta.node}, commit ${meta.commit ?? '?'}, ${meta.seconds.toFixed(0)} s, 1-min load average median ${meta.loadavg_1min.median.toFixed(2)} (max ${meta.loadavg_1min.max.toFixed(2)})${stealPct === null ? '' : `, CPU steal ${stealPct.toFixed(1)}%`}.`,
    'Ratios are ours divided by the other server, from this run only. † the load generator used >90% of a core: the figure may be client-bound.',
    ...(rows.some((r) => Object.values(r.noisy).some(Boolean))
      ? [`~ the runs of that cell differ by more than ${Math.round((NOISY_SPREAD - 1) * 100)}% (largest over smallest): its median is as noisy as the machine was (--json has every run).`]
      : []),
    ...notes.map((n) => 'note: ' + n),
  ].join('\n');

  if (opts.json) {
    const scenariosOut = scenarios.map((s) => ({ id: s.id, title: s.title, params: s.params, results: results[s.id] ?? {} }));
    process.stdout.write(JSON.stringify({ meta, scenarios: scenariosOut, table: rows }, null, 2) + '\n');
    log('\n' + table + footer);
  } else {
    console.log('\n' + table + footer);
  }
  if (rows.some((r) => r.pass === 'FAIL')) log(`\n${rows.filter((r) => r.pass === 'FAIL').length} target(s) not met.`);
}

main().catch((err) => {
  log(String(err?.message ?? err));
  process.exit(1);
});
