// The load generator: one process, spawned by bench/run.mjs for one scenario against one server.
//   node bench/client/load.mjs '<json config>'
// Config: { scenario, params, server: { name, kind: 'sockjs'|'ws', port, pid }, clkTck, deadlineMs }
// Prints one JSON line on stdout: { ok: true, metrics: {...}, info: {...} } or { ok: false, error }.
import { Sock, flavour, openSocks, wsUrl } from './wsock.mjs';
import { PollSession, StreamSession, agent } from './httpsess.mjs';
import { appScenarios } from './app.mjs';
import { arrayBody, fetchMem, jsonDocuments, measuredWindow, now, percentiles, pool, sleep, snapshot, windowStats } from './util.mjs';

const cfg = JSON.parse(process.argv[2]);
const { port, pid, kind } = cfg.server;
// The ours+recovery server: SockJS websocket sessions speak the recovery wire (wsock.mjs).
const recovery = cfg.server.recovery === true;
const P = cfg.params;
const CLK = cfg.clkTck || 100;

function payloadOf(size) {
  return 'x'.repeat(size);
}

/** Bytes the client has read from the server on all `socks` so far (frames as sent: compressed or not). */
function bytesRead(socks) {
  let n = 0;
  for (const s of socks) n += s.ws._socket?.bytesRead ?? 0;
  return n;
}

/** The warm-up then measurement windows shared by every throughput scenario. */
async function measureWindow(counter) {
  await sleep(P.warmupMs);
  const a = snapshot(pid, { n: counter() });
  await sleep(P.measureMs);
  const b = snapshot(pid, { n: counter() });
  return windowStats(a, b, b.n - a.n, CLK);
}

function shutdownSocks(socks) {
  for (const s of socks) if (s) s.terminate();
}

// ---------------------------------------------------------------------------------------------
// Websocket echo at full speed: every session keeps `inflight` messages outstanding.
// With `json`, the payload is a JSON document of about `size` characters (jsonDocument); with
// `deflate`, the client offers permessage-deflate (its messages still go out uncompressed: the
// prepared frame), and the bytes read from the server per message are reported.
// JSON documents: different ones, each session sending them in turn, enough of them (at least
// 64, at least 128 KiB) that no copy of the same text is within a 32 KiB deflate window.
async function wsEcho() {
  const k = flavour(kind, P.raw);
  const payloads = P.json ? jsonDocuments(P.size, Math.max(64, Math.ceil(131_072 / P.size))) : [payloadOf(P.size)];
  const frames = payloads.map((p) => Buffer.from(k === 'sockjs' ? JSON.stringify([p]) : p));
  const frame = frames[0];
  const quotes = 2 + (payloads[0].match(/"/g)?.length ?? 0);
  let received = 0;
  let running = false;
  const socks = await openSocks(P.sessions, 100, () => new Sock(wsUrl(port, 'echo', k), k, null, { deflate: P.deflate === true }));
  const send = frames.length === 1 ? (s, n) => s.sendMany(frame, n) : (s, n) => s.sendRotating(frames, n);
  for (const s of socks) {
    s.quotesPerMessage = quotes;
    s.onData = (data, n) => {
      received += n;
      if (running) send(s, n);
    };
  }
  running = true;
  for (const s of socks) send(s, P.inflight);
  await sleep(P.warmupMs);
  const a = snapshot(pid, { n: received, bytes: bytesRead(socks) });
  await sleep(P.measureMs);
  const b = snapshot(pid, { n: received, bytes: bytesRead(socks) });
  const w = windowStats(a, b, b.n - a.n, CLK);
  running = false;
  const closed = socks.find((s) => s.closeFrame !== null || s.error !== null);
  if (closed) throw new Error(`a session failed: ${closed.closeFrame ?? closed.error}`);
  const negotiated = socks.filter((s) => s.ws.extensions.includes('permessage-deflate')).length;
  shutdownSocks(socks);
  const metrics = { msgs_per_s: w.rate, server_cpu_us_per_msg: w.server_cpu_us_per };
  if (P.deflate) metrics.wire_bytes_per_msg = w.count > 0 ? (b.bytes - a.bytes) / w.count : null;
  return {
    metrics,
    info: { ...w, payload_chars: payloads[0].length, frame_bytes: frame.length, deflate_negotiated: negotiated },
  };
}

// ---------------------------------------------------------------------------------------------
// Websocket echo at a fixed total rate: latency percentiles and the server's CPU per message.
async function wsFixedRate() {
  const k = flavour(kind, P.raw);
  const socks = await openSocks(P.sessions, 100, () => new Sock(wsUrl(port, 'echo', k), k));
  const cap = Math.ceil(P.rate * (P.measureMs / 1000) * 1.5) + 1000;
  const lat = new Float64Array(cap);
  let nLat = 0;
  let received = 0;
  let tRecordFrom = Infinity;
  const record = (t0, t) => {
    if (t0 >= tRecordFrom && nLat < cap) lat[nLat++] = t - t0;
  };
  for (const s of socks) {
    s.onData = (data, n) => {
      const t = now();
      received += n;
      if (k === 'sockjs') {
        for (const m of JSON.parse(data.toString('latin1', 1))) record(parseFloat(m), t);
      } else {
        record(parseFloat(data.toString('latin1')), t);
      }
    };
  }
  const pad = 'x'.repeat(P.size);
  const stamp = (t) => {
    const s = t.toFixed(3);
    return s + pad.slice(s.length);
  };
  const t0 = now();
  let sent = 0;
  let next = 0;
  const ticker = setInterval(() => {
    const t = now();
    const due = Math.floor(((t - t0) * P.rate) / 1000) - sent;
    for (let i = 0; i < due; i++) {
      const m = stamp(now());
      socks[next].send(k === 'sockjs' ? '["' + m + '"]' : m);
      next = (next + 1) % socks.length;
    }
    sent += Math.max(0, due);
  }, 1);
  const { a, b, to: tRecordTo } = await measuredWindow(pid, P, () => received, (t) => (tRecordFrom = t));
  clearInterval(ticker);
  // Let the last messages of the window come back, so that slow ones count in the tail.
  await sleep(Math.min(1000, P.measureMs / 5));
  const w = windowStats(a, b, b.n - a.n, CLK);
  const samples = lat.subarray(0, nLat);
  const pct = percentiles(samples, [50, 99, 99.9, 100]);
  const expected = Math.round((P.rate * (tRecordTo - tRecordFrom)) / 1000);
  shutdownSocks(socks);
  return {
    metrics: {
      server_cpu_us_per_msg: w.server_cpu_us_per,
      latency_p50_ms: pct[50],
      latency_p99_ms: pct[99],
    },
    info: { ...w, latency_p999_ms: pct[99.9], latency_max_ms: pct[100], samples: nLat, expected_samples: expected },
  };
}

// ---------------------------------------------------------------------------------------------
// Streaming echo: receive on xhr_streaming / eventsource, send with xhr_send.
async function streamEcho() {
  const bodyFor = arrayBody(payloadOf(P.size));
  let received = 0;
  let running = false;
  const sessions = [];
  await pool(P.sessions, 50, async () => {
    const s = new StreamSession(port, 'echo', P.transport, (n, sess) => {
      received += n;
      if (running) sess.enqueue(n, bodyFor, P.maxBatch);
    });
    sessions.push(s);
    await s.ready;
  });
  running = true;
  for (const s of sessions) s.enqueue(P.inflight, bodyFor, P.maxBatch);
  const streams0 = sessions.reduce((a, s) => a + s.streams, 0);
  const sends0 = sessions.reduce((a, s) => a + s.sends, 0);
  const w = await measureWindow(() => received);
  running = false;
  const failed = sessions.find((s) => s.error !== null);
  if (failed) throw failed.error;
  const streams = sessions.reduce((a, s) => a + s.streams, 0) - streams0;
  const sends = sessions.reduce((a, s) => a + s.sends, 0) - sends0;
  for (const s of sessions) s.stop();
  return {
    metrics: { msgs_per_s: w.rate, server_cpu_us_per_msg: w.server_cpu_us_per },
    info: { ...w, stream_reopens_during_run: streams, xhr_sends_during_run: sends, msgs_per_send: sends ? w.count / sends : null },
  };
}

// ---------------------------------------------------------------------------------------------
// xhr-polling: each session does poll + xhr_send round trips back to back.
async function pollingEcho() {
  const body = Buffer.from(JSON.stringify([payloadOf(P.size)]));
  const sessions = await pool(P.sessions, 50, () => new PollSession(port, 'echo').open());
  let trips = 0;
  let running = true;
  let failure = null;
  // Callbacks rather than an async loop: the client's own cost per trip is what limits the rate.
  const loops = sessions.map((s) => new Promise((resolve) => {
    const next = (err, n) => {
      if (err) {
        failure ??= err;
        running = false;
      } else trips += n;
      if (running) s.roundTrip(body, next);
      else {
        s.close();
        resolve();
      }
    };
    s.roundTrip(body, next);
  }));
  const w = await measureWindow(() => trips);
  running = false;
  await Promise.all(loops);
  if (failure !== null) throw failure;
  return { metrics: { round_trips_per_s: w.rate, server_cpu_us_per_trip: w.server_cpu_us_per }, info: w };
}

// ---------------------------------------------------------------------------------------------
// Broadcast: one sender, every message goes to all sessions (the sender included). The sender
// keeps `window` broadcasts outstanding, counted on deliveries to all sessions.
async function broadcast() {
  const k = flavour(kind, false);
  const payload = payloadOf(P.size);
  const frame = Buffer.from(k === 'sockjs' ? JSON.stringify([payload]) : payload);
  const N = P.sessions;
  let delivered = 0;
  let sent = 0;
  let running = false;
  const socks = await openSocks(N, 100, () => new Sock(wsUrl(port, 'broadcast', k), k));
  const sender = socks[0];
  const pump = () => {
    while (running && (sent - P.window) * N < delivered) {
      sent++;
      sender.send(frame);
    }
  };
  for (const s of socks) {
    s.onData = (data, n) => {
      delivered += n;
      pump();
    };
  }
  running = true;
  pump();
  const w = await measureWindow(() => delivered);
  running = false;
  shutdownSocks(socks);
  return {
    metrics: { deliveries_per_cpu_s: w.per_server_cpu_s, deliveries_per_s: w.rate },
    info: { ...w, broadcasts_sent: sent },
  };
}

/**
 * KiB per session between two memory reports, RSS without the young generation's growth (a
 * per-process pool, not memory per session: see mem.cjs).
 */
function perSession(before, m, key, n) {
  const young = key === 'rss' ? (m.young ?? 0) - (before.young ?? 0) : 0;
  return (m[key] - before[key] - young) / 1024 / n;
}

/** KiB per session by which the old generation's committed size grew beyond its used size. */
function oldUnused(m, before, n) {
  const o = m.spaces?.old_space, b = before.spaces?.old_space;
  if (o === undefined || b === undefined) return null;
  return (o[0] - o[1] - (b[0] - b[1])) / 1024 / n;
}

/** A short message for a session of `k` ('sockjs' sends a JSON array of messages). */
function echoFrame(k) {
  return k === 'sockjs' ? '["xxxxxxxxxxxxxxxx"]' : 'xxxxxxxxxxxxxxxx';
}

// ---------------------------------------------------------------------------------------------
// Idle sessions: server memory per open session (websocket or xhr_streaming).
function openIdle(transport, i) {
  if (transport === 'websocket') {
    const k = flavour(kind, false);
    return new Sock(wsUrl(port, 'echo', k, recovery), k, null, { recovery, deflate: P.deflate === true });
  }
  return new StreamSession(port, 'echo', 'xhr_streaming');
}

function closeIdle(s) {
  if (s instanceof Sock) s.terminate();
  else s.stop();
}

async function idle() {
  // Warm-up: load and compile every code path once, then take the baseline.
  const warm = [];
  await pool(P.warmSessions, 50, async (i) => {
    const s = openIdle(P.transport, i);
    warm.push(s);
    await s.ready;
  });
  warm.forEach(closeIdle);
  await sleep(300);
  const before = await fetchMem(port);
  const sessions = [];
  const t0 = now();
  await pool(P.sessions, P.concurrency, async (i) => {
    const s = openIdle(P.transport, i);
    sessions.push(s);
    await s.ready;
  });
  const openSeconds = (now() - t0) / 1000;
  await sleep(P.settleMs);
  const after = await fetchMem(port);
  // Then each session echoes one message, as every session of an application does: a recovery
  // session has sent its hello and ack already, and a plain one now has a message behind it too.
  // Recovery clients acknowledge the echo at once (the companion client does within a second),
  // so what is measured is beyond the replay buffer.
  let used = null;
  if (P.echoAfter && P.transport === 'websocket') {
    const frame = echoFrame(flavour(kind, false));
    await pool(P.sessions, P.concurrency, async (i) => {
      await echoOnce(sessions[i], frame);
      sessions[i].ackNow();
    });
    await sleep(P.settleMs);
    used = await fetchMem(port);
  }
  sessions.forEach(closeIdle);
  const n = P.sessions;
  // The young generation's growth is a per-process pool, not memory per session (see mem.cjs).
  const youngGrowth = (after.young ?? 0) - (before.young ?? 0);
  const per = (m, key) => perSession(before, m, key, n);
  // RSS less the heap V8 has committed and holds nothing in (young generation included): what the
  // sessions' objects and their native memory take, without the pages a GC left free.
  const live = (m) => m.rss - (m.heapTotal - m.heapUsed);
  const held = (m) => (live(m) - live(before)) / 1024 / n;
  return {
    metrics: {
      rss_kib_per_session: per(after, 'rss'),
      rss_kib_per_session_held: held(after),
      heap_kib_per_session: per(after, 'heapUsed'),
      ...(used !== null
        ? { rss_kib_per_session_used: per(used, 'rss'), rss_kib_per_session_used_held: held(used), heap_kib_per_session_used: per(used, 'heapUsed') }
        : {}),
      // Old-generation pages committed but not used after the GCs (neither live nor reusable):
      // the part of RSS that varies with V8's pretenuring, not with what sessions hold.
      old_space_unused_kib_per_session: oldUnused(after, before, n),
    },
    info: {
      sessions: n,
      rss_with_young_kib_per_session: (after.rss - before.rss) / 1024 / n,
      young_growth_kib: youngGrowth / 1024,
      server_reported_sessions: after.sessions,
      open_seconds: openSeconds,
      external_kib_per_session: (after.external - before.external) / 1024 / n,
      ...(used !== null ? { old_space_unused_kib_per_session_used: oldUnused(used, before, n) } : {}),
      before,
      after,
      used,
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Compression's memory: `sessions` websocket sessions that offer permessage-deflate, measured
// idle (negotiated, nothing compressed yet), then after each has echoed one JSON document of
// about `size` characters (sent compressed by the client, as browsers do, and answered).
async function deflateIdle() {
  const doc = JSON.stringify(jsonDocuments(P.size, 1));
  const warm = [];
  await pool(P.warmSessions, 50, async (i) => {
    const s = openIdle('websocket', i);
    warm.push(s);
    await s.ready;
    await echoOnce(s, doc);
  });
  warm.forEach(closeIdle);
  await sleep(300);
  const before = await fetchMem(port);
  const sessions = [];
  await pool(P.sessions, P.concurrency, async (i) => {
    const s = openIdle('websocket', i);
    sessions.push(s);
    await s.ready;
  });
  await sleep(P.settleMs);
  const idleMem = await fetchMem(port);
  await pool(P.sessions, P.concurrency, (i) => echoOnce(sessions[i], doc));
  await sleep(P.settleMs);
  const used = await fetchMem(port);
  const negotiated = sessions.filter((s) => s.ws.extensions.includes('permessage-deflate')).length;
  sessions.forEach(closeIdle);
  const n = P.sessions;
  const per = (m, key) => perSession(before, m, key, n);
  return {
    metrics: {
      rss_kib_per_session_idle: per(idleMem, 'rss'),
      heap_kib_per_session_idle: per(idleMem, 'heapUsed'),
      rss_kib_per_session_used: per(used, 'rss'),
      heap_kib_per_session_used: per(used, 'heapUsed'),
    },
    info: { sessions: n, deflate_negotiated: negotiated, external_kib_per_session_used: per(used, 'external'), before, idle: idleMem, used },
  };
}

/** Sends one SockJS frame on `s` and resolves on the next data frame. */
function echoOnce(s, frame) {
  return new Promise((resolve) => {
    s.onData = () => {
      s.onData = null;
      resolve();
    };
    s.send(frame);
  });
}

// ---------------------------------------------------------------------------------------------
// Handshake rate (open, wait for 'o', close) and churn (open, echo one message, close).
function oneSession(withEcho) {
  const k = flavour(kind, false);
  return new Promise((resolve, reject) => {
    const s = new Sock(wsUrl(port, 'echo', k, recovery), k, null, { recovery });
    const frame = echoFrame(k);
    s.ready.then(() => {
      if (!withEcho) return s.close().then(resolve);
      s.onData = () => {
        s.onData = null;
        s.close().then(resolve);
      };
      s.send(frame);
    }, reject);
  });
}

async function churn(withEcho) {
  await pool(P.warmSessions, P.concurrency, () => oneSession(withEcho));
  await sleep(withEcho ? P.settleMs : 200);
  const before = withEcho ? await fetchMem(port) : null;
  let done = 0;
  const a = snapshot(pid, { n: 0 });
  await pool(P.sessions, P.concurrency, async () => {
    await oneSession(withEcho);
    done++;
  });
  const b = snapshot(pid, { n: done });
  const w = windowStats(a, b, done, CLK);
  const metrics = { sessions_per_s: w.rate, server_cpu_us_per_session: w.server_cpu_us_per };
  const info = { ...w };
  if (withEcho) {
    await sleep(P.settleMs);
    const after = await fetchMem(port);
    const scale = 10_000 / P.sessions;
    metrics.heap_growth_kib_per_10k = ((after.heapUsed - before.heapUsed) / 1024) * scale;
    info.rss_growth_kib_per_10k = ((after.rss - before.rss) / 1024) * scale;
    info.server_reported_sessions_after = after.sessions;
    info.before = before;
    info.after = after;
  }
  return { metrics, info };
}

const SCENARIOS = {
  'ws-echo': wsEcho,
  'ws-fixed': wsFixedRate,
  stream: streamEcho,
  polling: pollingEcho,
  broadcast,
  idle,
  handshake: () => churn(false),
  churn: () => churn(true),
  'deflate-idle': deflateIdle,
  ...appScenarios({ port, pid, kind, recovery, P, CLK }),
};

const watchdog = setTimeout(() => {
  process.stdout.write(JSON.stringify({ ok: false, error: `client deadline of ${cfg.deadlineMs} ms passed` }) + '\n');
  process.exit(2);
}, cfg.deadlineMs ?? 120_000);

try {
  const fn = SCENARIOS[cfg.scenario];
  if (!fn) throw new Error(`unknown client scenario ${cfg.scenario}`);
  const out = await fn();
  process.stdout.write(JSON.stringify({ ok: true, ...out }) + '\n');
} catch (err) {
  process.stdout.write(JSON.stringify({ ok: false, error: String(err?.stack ?? err) }) + '\n');
}
clearTimeout(watchdog);
agent.destroy();
// Results are out (stdout is a pipe, written synchronously); sockets being torn down must not hold us.
process.exit(0);
