/**
 * What a service answers when another process asks for its figures (the dashboard's per-process
 * table, through `Adapter.ask`). Computed on demand, one pass over the open connections; counters
 * are totals, so the asker derives rates from two answers of the same process on that process's
 * own clock.
 */
import { hostname } from 'node:os';
import { getHeapStatistics } from 'node:v8';
import type { Connection } from './connection.js';
import type { Rooms } from './rooms.js';
import { TRANSPORTS, type Stats } from './stats.js';

/** The question's topic. */
export const FIGURES_TOPIC = 'figures';

/** One service's figures in one process, as sent to the asker (JSON). */
export interface ProcessReport {
  /** The answering process's clock (ms since the epoch). */
  t: number;
  pid: number;
  uptime_s: number;
  rss: number;
  heap_used: number;
  /** CPU time (user and system) the process has used, in microseconds. */
  cpu_us: number;
  /** Open sessions per transport name; transports with none are left out. */
  sessions: Record<string, number>;
  msg_in: number;
  msg_out: number;
  bytes_in: number;
  bytes_out: number;
  buffered: number;
  rooms: number;
}

/** This process as other processes see it: `hostname:pid`. */
export function processName(): string {
  return `${hostname()}:${process.pid}`;
}

function total(values: Float64Array): number {
  let n = 0;
  for (let i = 0; i < values.length; i++) n += values[i]!;
  return n;
}

/** The parts of a service the report reads. */
export interface Reported {
  readonly connections: ReadonlySet<Connection>;
  readonly stats: Stats;
  readonly rooms: Rooms;
}

export function reportOf(s: Reported, now = Date.now()): ProcessReport {
  const sessions: Record<string, number> = {};
  for (let i = 0; i < TRANSPORTS.length; i++) if (s.stats.open[i]! > 0) sessions[TRANSPORTS[i]!] = s.stats.open[i]!;
  const cpu = process.cpuUsage();
  return {
    t: now,
    pid: process.pid,
    uptime_s: Math.round(process.uptime()),
    rss: process.memoryUsage.rss(),
    heap_used: getHeapStatistics().used_heap_size,
    cpu_us: cpu.user + cpu.system,
    sessions,
    msg_in: total(s.stats.msgIn),
    msg_out: total(s.stats.msgOut),
    bytes_in: total(s.stats.bytesIn),
    bytes_out: total(s.stats.bytesOut),
    buffered: s.stats.buffered_bytes,
    rooms: s.rooms.size,
  };
}

/** A service's answer to another process's question: its figures, or null for a topic it does not know. */
export function answerFor(s: Reported, topic: string): string | null {
  return topic === FIGURES_TOPIC ? JSON.stringify(reportOf(s)) : null;
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;
const FIELDS = ['t', 'pid', 'uptime_s', 'rss', 'heap_used', 'cpu_us', 'msg_in', 'msg_out', 'bytes_in', 'bytes_out', 'buffered', 'rooms'] as const;

/** Another process's answer, checked field by field; null when it is not a report. */
export function parseReport(text: string): ProcessReport | null {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return null;
  }
  if (v === null || typeof v !== 'object') return null;
  const r = v as Record<string, unknown>;
  if (!FIELDS.every((f) => isCount(r[f]))) return null;
  const s = r['sessions'];
  if (s === null || typeof s !== 'object' || Array.isArray(s) || !Object.values(s).every(isCount)) return null;
  return r as unknown as ProcessReport;
}
