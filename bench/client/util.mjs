// Small helpers for the load generator: timing, the server's CPU from /proc, its memory from
// /__mem, SockJS ids, and message counting.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { performance } from 'node:perf_hooks';

export const HOST = '127.0.0.1';
export const now = () => performance.now();
export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** utime + stime of a process (all its threads), in clock ticks, from /proc/<pid>/stat. */
export function cpuTicks(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  // The command name (field 2) may hold spaces; the fields after its closing ')' are fixed.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

/** A point in time: wall clock, the server's CPU ticks, this process's own CPU. */
export function snapshot(pid, counters = {}) {
  return { t: now(), ticks: cpuTicks(pid), self: process.cpuUsage(), ...counters };
}

/**
 * What happened between two snapshots. `count` is the number of events (messages, sessions…)
 * in the window; the server figure is CPU µs per event.
 */
/**
 * A fixed-rate scenario's window: `P.warmupMs` of warm-up, then `P.measureMs` measured between two
 * snapshots of the server's CPU and of `count()`. `onStart(t)` is told when the window opens (from
 * then on, latencies are recorded).
 */
export async function measuredWindow(pid, P, count, onStart) {
  await sleep(P.warmupMs);
  const from = now();
  onStart(from);
  const a = snapshot(pid, { n: count() });
  await sleep(P.measureMs);
  const b = snapshot(pid, { n: count() });
  return { a, b, from, to: now() };
}

export function windowStats(a, b, count, clkTck) {
  const seconds = (b.t - a.t) / 1000;
  const serverCpuS = (b.ticks - a.ticks) / clkTck;
  const selfCpuS = (b.self.user + b.self.system - a.self.user - a.self.system) / 1e6;
  return {
    seconds,
    count,
    rate: count / seconds,
    server_cpu_s: serverCpuS,
    server_cpu_pct: (100 * serverCpuS) / seconds,
    client_cpu_pct: (100 * selfCpuS) / seconds,
    server_cpu_us_per: count > 0 ? (serverCpuS * 1e6) / count : null,
    per_server_cpu_s: serverCpuS > 0 ? count / serverCpuS : null,
  };
}

/** GET /__mem: the server's process.memoryUsage() after forced GCs. */
export function fetchMem(port) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: HOST, port, path: '/__mem', agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => {
        try {
          resolve(JSON.parse(body));
        } catch (err) {
          reject(new Error(`/__mem answered ${res.statusCode}: ${body.slice(0, 200)}`));
        }
      });
    });
    req.on('error', reject);
    req.setTimeout(30_000, () => req.destroy(new Error('/__mem timed out')));
  });
}

let idCounter = 0;
/** A SockJS session path segment pair: `<3-digit server>/<session id>`. */
export function sessionPath() {
  const server = String(Math.floor(Math.random() * 1000)).padStart(3, '0');
  const id = Math.random().toString(36).slice(2, 10) + (idCounter++).toString(36);
  return `${server}/${id}`;
}

/**
 * Messages in a SockJS data frame (or a stretch of a stream), counted without parsing: the bench
 * payloads are made of 'x' and digits only, so every message is exactly one pair of quotes, or,
 * for a JSON payload, `perMessage` quotes (its own, escaped, plus the pair around it).
 */
export function countMessages(buf, perMessage = 2) {
  let n = 0;
  let i = buf.indexOf(34);
  while (i !== -1) {
    n++;
    i = buf.indexOf(34, i + 1);
  }
  return perMessage === 2 ? n >> 1 : Math.floor(n / perMessage);
}

/**
 * Messages in one SockJS `a[...]` frame of any JSON strings, counted without parsing: the strings
 * opened, reading past each backslash's escaped character. One pass in JS over the bytes costs
 * the load generator less than a native search per quote (each call's overhead is most of it).
 */
export function countStrings(buf) {
  let n = 0;
  let inString = false;
  for (let i = 2, len = buf.length; i < len; i++) {
    const c = buf[i];
    if (inString) {
      if (c === 92) i++;
      else if (c === 34) inString = false;
    } else if (c === 34) {
      inString = true;
      n++;
    }
  }
  return n;
}

/** A JSON array of `n` copies of a payload, as bytes (cached per n). */
export function arrayBody(payload) {
  const cache = new Map();
  const item = JSON.stringify(payload);
  return (n) => {
    let b = cache.get(n);
    if (b === undefined) {
      b = Buffer.from('[' + new Array(n).fill(item).join(',') + ']');
      cache.set(n, b);
    }
    return b;
  };
}

/** Runs `task(i)` for i in [0, total) with at most `concurrency` at once; resolves with all results. */
export async function pool(total, concurrency, task) {
  const results = new Array(total);
  let next = 0;
  async function lane() {
    while (next < total) {
      const i = next++;
      results[i] = await task(i);
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, total) }, lane));
  return results;
}

/** Percentiles (0–100) of a sample array, in place sort. */
export function percentiles(samples, ps) {
  samples.sort();
  const out = {};
  for (const p of ps) {
    if (samples.length === 0) out[p] = null;
    else out[p] = samples[Math.min(samples.length - 1, Math.floor((p / 100) * samples.length))];
  }
  return out;
}

/**
 * `count` different JSON documents of about `bytes` characters each, shaped like an API's answer:
 * a page of records with ids, names, e-mail addresses, dates, enums, numbers and nested objects,
 * varied by a fixed pseudo-random sequence so that they compress as such data does (not as one
 * repeated string, which a compressor with context takeover would send as a back-reference).
 * Every document has the same records and the same number of quote characters (the load
 * generator counts messages by their quotes); the same arguments give the same texts.
 */
export function jsonDocuments(bytes, count = 1) {
  const FIRST = ['Ada', 'Bruno', 'Chiara', 'Dmitri', 'Emeka', 'Fatima', 'Goran', 'Hana', 'Ivo', 'Jun', 'Kemal', 'Lena'];
  const LAST = ['Okafor', 'Lindqvist', 'Moreau', 'Tanaka', 'Novak', 'Haddad', 'Silva', 'Kowalski', 'Byrne', 'Rossi'];
  const CITY = ['Lisbon', 'Osaka', 'Lagos', 'Tallinn', 'Quito', 'Perth', 'Bergen', 'Cork'];
  const STATUS = ['active', 'pending', 'suspended', 'closed'];
  const TAGS = ['beta', 'vip', 'eu', 'mobile', 'api', 'trial'];
  let seed = 12345;
  const rnd = (n) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  const record = () => {
    const first = FIRST[rnd(FIRST.length)];
    const last = LAST[rnd(LAST.length)];
    return {
      id: 100_000 + rnd(900_000),
      name: `${first} ${last}`,
      email: `${first}.${last}${rnd(100)}@example.com`.toLowerCase(),
      status: STATUS[rnd(STATUS.length)],
      created_at: new Date(Date.UTC(2025, 0, 1) + rnd(700) * 86_400_000 + rnd(86_400) * 1000).toISOString(),
      balance: rnd(1_000_000) / 100,
      verified: rnd(2) === 1,
      address: { city: CITY[rnd(CITY.length)], zip: String(10_000 + rnd(89_999)) },
      tags: [TAGS[rnd(TAGS.length)], TAGS[rnd(TAGS.length)]],
    };
  };
  // The first document sets the number of records: enough to reach `bytes`.
  const first = { page: 1, per_page: 0, total: 4817, items: [] };
  while (JSON.stringify(first).length < bytes) first.items.push(record());
  first.per_page = first.items.length;
  const docs = [JSON.stringify(first)];
  for (let page = 2; page <= count; page++) {
    const items = Array.from({ length: first.per_page }, record);
    docs.push(JSON.stringify({ page, per_page: first.per_page, total: 4817, items }));
  }
  return docs;
}
