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
//   npm run bench -- --out bench.json   the same JSON in a file, rewritten after every run
//   npm run bench -- --repeats 5
//   npm run bench -- --baseline d91b509   every row also for that revision's build (ours@d91b509)
//   BENCH_COMPRESSION_OPTIONS='{"server_max_window_bits":10}' npm run bench -- --only deflate   ours+deflate's settings
//   BENCH_SERVER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" npm run bench -- --only app-churn --servers ours
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildScenarios, SERVER_NAMES, VARIANTS } from './scenarios.mjs';
import { prepareBaseline } from './baseline.mjs';
import { ROOT, clockTicks, cpuTimes, distIsStale, exited, gitCommit, median, nextPort, serverNodeFlags, shellLimits, stop } from './harness.mjs';

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
// --baseline: { id: 'ours@<rev>', rev, dist } once prepared.
let BASELINE = null;
// How much worse than the baseline a figure may be before the row is marked (issue #18: 5%).
const BASELINE_TOLERANCE = 0.05;

/** A server's label in the table. */
const nameOf = (id) => SERVER_NAMES[id] ?? id;
/** The server family whose scripts a server id runs: the variants and the baseline are "ours". */
const familyOf = (id) => (id.startsWith('ours') ? 'ours' : id);

/**
 * What a server's child process gets in its environment besides PORT and the mount: which build
 * and which variant, cleared for the others (not inherited from the shell that ran the bench).
 */
function serverEnv(id) {
  const env = { BENCH_DIST: '', BENCH_RECOVERY: '', BENCH_COMPRESSION: '' };
  if (BASELINE !== null && id === BASELINE.id) return { ...env, BENCH_DIST: BASELINE.dist };
  return { ...env, ...VARIANTS[id]?.env };
}

/** Whether a scenario runs on a server: the baseline runs wherever ours does. */
function runsOn(sc, id) {
  if (BASELINE !== null && id === BASELINE.id) return sc.servers.includes('ours');
  return sc.servers.includes(id);
}

// ------------------------------------------------------------------------------------------------
// Command line

function usage() {
  return `usage: node bench/run.mjs [--quick] [--json] [--out FILE] [--repeats N] [--only a,b] [--servers ours,sockjs,ws,floor] [--baseline REV] [--mount M] [--list]
  --quick      short windows, reduced matrix, 1 repeat (finishes in under a minute)
  --json       print raw results as JSON on stdout (the table goes to stderr)
  --repeats N  repeats per scenario and server; the median is reported (default 3, quick 1)
  --only X     scenarios whose id or group starts with one of the comma-separated X
  --servers S  comma-separated subset of: ours, sockjs, ws, sio (socket.io 4: in the
               application-shaped scenarios only), floor (a bare http.Server holding
               the streams open: measured in idle-xhr only, and only when named here),
               ours+recovery, ours+deflate (ours with the recovery or compression option:
               in the scenarios that name them; included whenever ours is, unless
               --servers names a variant itself)
  --baseline R also measure the build of git revision R (a worktree under the system's temp
               directory, node_modules shared when R's lockfile allows, else npm ci) as
               "ours@R" wherever ours runs, with the ratio ours/ours@R per row; rows more
               than 5% worse (by the metric's direction) are marked
  --mount M    how "ours" is mounted: express (default: in an Express app served by
               expressServer(app), as the README recommends), listen (the same app on
               http.createServer(app), which is what app.listen() does) or http (installHandlers
               on the http.Server, as sockjs-node is: like for like)
  --out FILE   write the --json report to FILE after every run (and at the end), so
               that even a run killed outright leaves what it had measured
  --list       list the scenarios and exit`;
}

function parseArgs(argv) {
  const opts = { quick: false, json: false, repeats: null, only: null, servers: ['ours', 'sockjs', 'ws', 'sio'], list: false, mount: 'express', baseline: null, out: null };
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
    else if (name === '--baseline') opts.baseline = value();
    else if (name === '--out') opts.out = path.resolve(value());
    else if (name === '--repeats') opts.repeats = Number(value());
    else if (name === '--only') opts.only = value().split(',').map((s) => s.trim()).filter(Boolean);
    else if (name === '--servers') {
      const alias = { 'sockjs-node': 'sockjs', 'socket.io': 'sio' };
      opts.servers = value().split(',').map((s) => s.trim()).map((s) => alias[s] ?? s);
      for (const s of opts.servers) if (!SERVER_FILES[s] && !VARIANTS[s]) throw new Error(`unknown server ${s}\n${usage()}`);
    } else if (name === '--help' || name === '-h') {
      console.log(usage());
      process.exit(0);
    } else throw new Error(`unknown argument ${a}\n${usage()}`);
  }
  // The variants of ours belong to the rows that name them, as ours does to every row.
  if (opts.servers.includes('ours') && !opts.servers.some((s) => VARIANTS[s])) {
    opts.servers.splice(opts.servers.indexOf('ours') + 1, 0, ...Object.keys(VARIANTS));
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

// The children alive now, so that an interrupted run stops them before it reports.
const live = new Set();

/** Spawns `node <args>` through sh so that the file-descriptor limit can be raised first (exec keeps the pid). */
function spawnNode(args, { fds, env, stdio }) {
  const child = spawn('/bin/sh', ['-c', `ulimit -n ${fds} 2>/dev/null; exec "$0" "$@"`, process.execPath, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio,
  });
  // A spawn that fails (EAGAIN, ENOMEM) emits 'error': unhandled, it would end the whole run.
  child.spawnError = null;
  child.on('error', (err) => {
    child.spawnError = err;
  });
  live.add(child);
  child.once('exit', () => live.delete(child));
  return child;
}

async function startServer(name, fds, app) {
  const port = await nextPort();
  const family = familyOf(name);
  const file = app ? APP_SERVER_FILES[family] : SERVER_FILES[family];
  const child = spawnNode([...serverNodeFlags(), path.join(HERE, file)], {
    fds,
    env: { PORT: String(port), NODE_ENV: 'production', BENCH_MOUNT: MOUNT, ...serverEnv(name) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    await new Promise((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`${nameOf(name)} server did not start in 15 s`)), 15_000);
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
      child.once('error', (err) => {
        clearTimeout(timer);
        reject(new Error(`${nameOf(name)} server could not be started: ${err.message}`));
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`${nameOf(name)} server exited with ${code} before listening`));
      });
    });
  } catch (err) {
    await stop(child);
    throw err;
  }
  return { child, port, pid: child.pid };
}

/**
 * Runs `node <args>` (its stderr goes to ours) and returns the JSON of the last line it printed,
 * or { ok: false, error } naming `what` when it could not start or printed none.
 */
async function runJson(args, fds, killAfterMs, what) {
  const child = spawnNode(args, { fds, env: {}, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (c) => (out += c));
  const killer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
  await exited(child);
  clearTimeout(killer);
  if (child.spawnError !== null) return { ok: false, error: `${what} could not be started: ${child.spawnError.message}` };
  const line = out.trim().split('\n').pop();
  try {
    return JSON.parse(line);
  } catch {
    return { ok: false, error: `${what} printed no result (exit ${child.exitCode ?? child.signalCode}): ${out.slice(-300)}` };
  }
}

function runClient(config, fds, deadlineMs) {
  return runJson([path.join(HERE, 'client/load.mjs'), JSON.stringify({ ...config, deadlineMs })], fds, deadlineMs + 10_000, 'the load generator');
}

/** One fresh pair of `ours` and `server` measured side by side, both orders (bench/side-by-side.mjs). */
async function measureSideBySide(scenario, server, env) {
  const { shape, blocks } = scenario.params;
  const args = [path.join(HERE, 'side-by-side.mjs'), '--json', '--both', '--shape', shape, '--blocks', String(blocks), 'ours', server];
  const r = await runJson(args, env.fds, 2 * env.deadlineMs, 'side-by-side.mjs');
  return r.ok === false ? r : { ok: true, metrics: { cpu_ratio: r.ratio }, info: { runs: r.runs } };
}

async function measureOnce(scenario, server, env) {
  if (scenario.client === 'side-by-side') return measureSideBySide(scenario, server, env);
  const srv = await startServer(server, env.fds, scenario.app === true);
  try {
    const config = {
      scenario: scenario.client,
      params: scenario.params,
      server: { name: server, kind: SERVER_KIND[familyOf(server)], port: srv.port, pid: srv.pid, ...(VARIANTS[server]?.client ?? {}) },
      clkTck: env.clkTck,
    };
    const result = await runClient(config, env.fds, env.deadlineMs);
    if (srv.child.exitCode !== null || srv.child.signalCode !== null) {
      return { ok: false, error: `${nameOf(server)} server died during the run (${srv.child.exitCode ?? srv.child.signalCode})` };
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
  if (kind === 'ratio') return value.toFixed(3) + '×';
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

function judge(metric, values) {
  if (metric.targets) {
    const each = metric.targets.map((target) => judge({ target }, values));
    const pass = each.some((j) => j.pass === 'FAIL') ? 'FAIL' : each.some((j) => j.pass === 'n/a') ? 'n/a' : 'PASS';
    return { target: each.map((j) => j.target).join(' & '), pass };
  }
  const t = metric.target;
  if (!t) return { target: '', pass: '' };
  const of = t.of ?? 'ours';
  const prefix = of === 'ours' ? '' : `${nameOf(of)} `;
  if (t.diff) {
    // A difference in the metric's own unit: the variant's figure minus the other's.
    const label = `${prefix}${t.diff}${nameOf(t.vs)} + ${t.value} ${t.unit}`;
    const a = values[of];
    const b = values[t.vs];
    if (typeof a !== 'number' || typeof b !== 'number') return { target: label, pass: 'n/a' };
    return { target: label, pass: a - b <= t.value ? 'PASS' : 'FAIL' };
  }
  if (t.vs) {
    const label = `${prefix}${t.op}${t.value}× ${nameOf(t.vs)}`;
    const r = ratio(values[of], values[t.vs]);
    if (r === null) return { target: label, pass: 'n/a' };
    const ok = t.op === '>=' ? r >= t.value : r <= t.value;
    return { target: label, pass: ok ? 'PASS' : 'FAIL' };
  }
  const label = `${prefix}${t.abs === '±' ? `within ±${t.value} ${t.unit}` : `${t.abs}${t.value} ${t.unit}`}`.trim();
  const v = values[of];
  if (typeof v !== 'number') return { target: label, pass: 'n/a' };
  const ok = t.abs === '±' ? Math.abs(v) <= t.value : t.abs === '<=' ? v <= t.value : v >= t.value;
  return { target: label, pass: ok ? 'PASS' : 'FAIL' };
}

/**
 * The ratio columns of the table: ours over each other server, each variant of ours over ours,
 * and ours over the baseline (`ours/ours@rev`, with whether ours is worse by more than the
 * tolerance in the metric's direction).
 */
function ratioColumns(servers) {
  const cols = [];
  if (servers.includes('ours')) {
    for (const other of ['ws', 'sockjs', 'sio']) {
      if (servers.includes(other)) cols.push({ key: other, num: 'ours', den: other, label: `ours/${nameOf(other)}` });
    }
    for (const v of servers.filter((x) => VARIANTS[x])) cols.push({ key: v, num: v, den: 'ours', label: `${nameOf(v)}/ours` });
    if (BASELINE !== null && servers.includes(BASELINE.id)) {
      cols.push({ key: 'baseline', num: 'ours', den: BASELINE.id, label: `ours/${BASELINE.id}`, baseline: true });
    }
  }
  return cols;
}

function buildRows(scenarios, results, servers) {
  const cols = ratioColumns(servers);
  const rows = [];
  for (const sc of scenarios) {
    for (const m of sc.metrics) {
      const values = {};
      const clientBound = {};
      const noisy = {};
      const failed = {};
      for (const s of servers) {
        const r = results[sc.id]?.[s];
        // undefined: not measured on that server; null: measured, no figure (every run failed).
        values[s] = r ? r.median?.[m.key] ?? null : undefined;
        clientBound[s] = r ? r.clientBound : false;
        noisy[s] = r ? (r.spread?.[m.key] ?? 1) > NOISY_SPREAD : false;
        failed[s] = r ? (r.runs.length === 0 ? 'all' : r.errors.length > 0 ? 'some' : null) : null;
      }
      const ratios = {};
      for (const c of cols) ratios[c.key] = ratio(values[c.num], values[c.den]);
      const { target, pass } = judge(m, values);
      const row = { scenario: sc.id, metric: m.label, key: m.key, better: m.better, values, ratios, target, pass,
        clientBound: m.throughput ? clientBound : {}, noisy, failed, fmt: m.fmt };
      if (BASELINE !== null && ratios.baseline !== undefined && ratios.baseline !== null && m.better) {
        // How much worse ours is than the baseline, in the metric's direction (negative: better).
        const worse = m.better === 'higher' ? 1 - ratios.baseline : ratios.baseline - 1;
        row.vs_baseline = { baseline: BASELINE.id, ratio: ratios.baseline, worse_pct: 100 * worse, worse: worse > BASELINE_TOLERANCE };
      }
      rows.push(row);
    }
  }
  return rows;
}

function renderTable(rows, servers) {
  // A server column none of the rows has a figure or a failure for is left out.
  const shown = servers.filter((s) => rows.some((r) => r.values[s] !== undefined));
  const cols = ratioColumns(servers).filter((c) => rows.some((r) => r.ratios[c.key] !== null && r.ratios[c.key] !== undefined));
  const head = ['scenario', 'metric', ...shown.map(nameOf), ...cols.map((c) => c.label), 'target', 'pass'];
  const body = rows.map((row) => [
    row.scenario,
    row.metric,
    ...shown.map((s) => {
      const v = row.values[s];
      if (v === undefined) return 'n/a';
      if (row.failed[s] === 'all') return 'FAILED';
      return fmt(v, row.fmt) + (row.clientBound[s] ? ' †' : '') + (row.noisy[s] ? ' ~' : '') + (row.failed[s] === 'some' ? ' ‡' : '');
    }),
    ...cols.map((c) => {
      const r = row.ratios[c.key];
      if (r === null || r === undefined) return '–';
      return r.toFixed(2) + '×' + (c.baseline && row.vs_baseline?.worse ? ' !' : '');
    }),
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

/** Medians, spreads and notes of everything measured so far (`results` is filled in place). */
function aggregate(scenarios, results, notes) {
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
        notes.push(`${sc.id} · ${nameOf(server)}: every run failed (FAILED): ${slot.errors[0].split('\n')[0]}`);
      } else if (slot.errors.length) {
        notes.push(`${sc.id} · ${nameOf(server)}: ${slot.errors.length} of ${slot.errors.length + slot.runs.length} run(s) failed (‡; the median is of the others): ${slot.errors[0].split('\n')[0]}`);
      }
    }
  }
}

/** Prints the table (and with --json the JSON) of what `state` holds, complete or not. */
/**
 * `stoppedBy`: null for a complete run, else why it ended early ('running' for the file --out
 * rewrites after every run). `print`: false to write only the --out file.
 */
function report(state, stoppedBy = null, print = true) {
  const { opts, scenarios, servers, results, env } = state;
  const notes = [...state.notes];
  if (stoppedBy === 'running') notes.push(`in progress: ${state.done} of ${state.total} runs done.`);
  else if (stoppedBy !== null) notes.push(`the run was stopped (${stoppedBy}) after ${state.done} of ${state.total} runs: the figures are those of the runs done.`);
  aggregate(scenarios, results, notes);
  const rows = buildRows(scenarios, results, servers);
  const cpuAtEnd = cpuTimes();
  const stealPct = state.cpuAtStart && cpuAtEnd && cpuAtEnd.total > state.cpuAtStart.total
    ? (100 * (cpuAtEnd.steal - state.cpuAtStart.steal)) / (cpuAtEnd.total - state.cpuAtStart.total)
    : null;
  if (stealPct !== null && stealPct >= 3) {
    notes.push(`the hypervisor took ${stealPct.toFixed(1)}% of this machine's CPU time during the run (steal): other guests share its cores, so every figure moves between repeats more than usual; compare ratios, not absolute figures, and prefer more --repeats.`);
  }
  const loads = state.loads.length ? state.loads : [os.loadavg()[0]];
  const meta = {
    date: new Date().toISOString(),
    node: process.version,
    cpus: os.cpus().length,
    cpu_model: os.cpus()[0]?.model ?? null,
    commit: gitCommit(),
    baseline: BASELINE === null ? null : { server: BASELINE.id, commit: BASELINE.commit, dist: BASELINE.dist, tolerance_pct: 100 * BASELINE_TOLERANCE },
    mode: opts.quick ? 'quick' : 'full',
    repeats: opts.repeats,
    servers: servers.map(nameOf),
    fd_limit: env.fds,
    seconds: (Date.now() - state.started) / 1000,
    runs: { done: state.done, total: state.total, complete: stoppedBy === null },
    loadavg_1min: { start: state.loadAtStart, median: median(loads), max: Math.max(...loads) },
    cpu_steal_pct: stealPct,
    notes,
  };
  const worse = rows.filter((r) => r.vs_baseline?.worse);
  const table = renderTable(rows, servers);
  const footer = [
    '',
    `${meta.mode} mode, "ours" mounted ${MOUNT_LABELS[opts.mount]}, median of ${opts.repeats} run(s) per cell; ${meta.cpus} CPUs (${meta.cpu_model}), Node ${meta.node}, commit ${meta.commit ?? '?'}, ${meta.seconds.toFixed(0)} s, 1-min load average median ${meta.loadavg_1min.median.toFixed(2)} (max ${meta.loadavg_1min.max.toFixed(2)})${stealPct === null ? '' : `, CPU steal ${stealPct.toFixed(1)}%`}.`,
    'Ratios are between figures of this run only. † the load generator used >90% of a core: the figure may be client-bound.',
    ...(rows.some((r) => Object.values(r.noisy).some(Boolean))
      ? [`~ the runs of that cell differ by more than ${Math.round((NOISY_SPREAD - 1) * 100)}% (largest over smallest): its median is as noisy as the machine was (--json has every run).`]
      : []),
    ...(BASELINE !== null
      ? [`ours/${BASELINE.id}: ours divided by the build of ${BASELINE.commit.slice(0, 12)} (same bench scripts, same run); ! = ours is more than ${100 * BASELINE_TOLERANCE}% worse in the metric's direction (${worse.length} row(s)).`]
      : []),
    ...notes.map((n) => 'note: ' + n),
  ].join('\n');

  const json = () => {
    const scenariosOut = scenarios.map((s) => ({ id: s.id, title: s.title, params: s.params, results: results[s.id] ?? {} }));
    return JSON.stringify({ meta, scenarios: scenariosOut, table: rows, text: table + footer }, null, 2) + '\n';
  };
  if (opts.out !== null) {
    // Written whole to a temporary file and renamed: a run killed mid-write leaves the last one.
    writeFileSync(opts.out + '.tmp', json());
    renameSync(opts.out + '.tmp', opts.out);
  }
  if (!print) return;
  if (opts.json) {
    process.stdout.write(json());
    log('\n' + table + footer);
  } else {
    process.stdout.write('\n' + table + footer + '\n');
  }
  if (rows.some((r) => r.pass === 'FAIL')) log(`\n${rows.filter((r) => r.pass === 'FAIL').length} target(s) not met.`);
  if (worse.length) log(`${worse.length} row(s) more than ${100 * BASELINE_TOLERANCE}% worse than ${BASELINE.id}: ${worse.map((r) => `${r.scenario} / ${r.metric} (${r.vs_baseline.worse_pct.toFixed(1)}%)`).join('; ')}`);
}

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
      for (const s of servers.filter((x) => familyOf(x) === 'ours')) servers.splice(servers.indexOf(s), 1);
      notes.push('ours: dist/esm/index.js is missing (run `npm run build`); ours was not measured.');
    } else if (existsSync(path.join(ROOT, 'lib')) && distIsStale()) {
      notes.push('ours: dist/ is older than lib/ — run `npm run build` to bench the current code.');
    }
  }
  if (opts.baseline !== null) {
    const b = prepareBaseline(opts.baseline, log);
    BASELINE = { id: `ours@${b.rev}`, rev: b.rev, commit: b.commit, dist: b.dist };
    // Right after ours, so that the two alternate within each repeat.
    const at = servers.includes('ours') ? servers.indexOf('ours') + 1 : servers.length;
    servers.splice(at, 0, BASELINE.id);
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
  const jobs = [];
  for (const sc of scenarios) {
    const scServers = servers.filter((s) => runsOn(sc, s));
    for (let r = 0; r < opts.repeats; r++) {
      // Rotate the order per repeat so no server always runs first (or right after another).
      const order = scServers.map((_, i) => scServers[(i + r) % scServers.length]);
      for (const s of order) jobs.push({ sc, server: s, repeat: r });
    }
  }
  const state = { opts, scenarios, servers, notes, env, results: {}, loads: [], loadAtStart, cpuAtStart: cpuTimes(), started: Date.now(), done: 0, total: jobs.length };
  // Whatever ends the run early, what was measured so far is reported.
  let reported = false;
  const stopEarly = async (why, code) => {
    if (reported) return;
    reported = true;
    log(`\n${why}: stopping the children and reporting the ${state.done} run(s) done`);
    await Promise.all([...live].map((c) => stop(c)));
    report(state, why);
    process.exit(code);
  };
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.once(sig, () => stopEarly(sig, 128 + os.constants.signals[sig]));
  process.on('uncaughtException', (err) => stopEarly(`uncaught ${err?.stack ?? err}`, 1));
  process.on('unhandledRejection', (err) => stopEarly(`unhandled rejection ${err?.stack ?? err}`, 1));

  for (const { sc, server, repeat } of jobs) {
    state.loads.push(os.loadavg()[0]);
    const t0 = Date.now();
    let res;
    try {
      res = await measureOnce(sc, server, env);
    } catch (err) {
      res = { ok: false, error: String(err?.message ?? err) };
    }
    if (reported) return;
    state.done++;
    const slot = ((state.results[sc.id] ??= {})[server] ??= { runs: [], errors: [] });
    if (res.ok) slot.runs.push(res);
    else slot.errors.push(String(res.error));
    const head = sc.metrics[0];
    const shown = res.ok ? `${fmt(res.metrics[head.key], head.fmt)} ${head.label}` : `ERROR ${String(res.error).split('\n')[0]}`;
    log(`[${state.done}/${jobs.length}] ${sc.id} · ${nameOf(server)} #${repeat + 1}: ${shown} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    if (opts.out !== null && state.done < jobs.length) report(state, 'running', false);
  }
  reported = true;
  report(state);
}

main().catch((err) => {
  log(String(err?.message ?? err));
  process.exit(1);
});
