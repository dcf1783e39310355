/**
 * The dashboard's per-process table. While a page polls, each service's adapter is asked (at most
 * once a second, one question at a time) for the other processes' figures; their answers are kept
 * here and shown from the next snapshot on, so a snapshot never waits for another process. A
 * process that stops answering is marked stale, then forgotten; after a time with no page open the
 * table starts over. Nothing is asked while no page polls.
 */
import type { AdapterAnswer } from '../adapter.js';
import { FIGURES_TOPIC, parseReport, processName, type ProcessReport } from '../figures.js';
import { TRANSPORTS } from '../stats.js';
import type { SockJSRouter } from '../router.js';

/** One service's figures: in a sample of the history, or on one process. */
export interface ServiceFigures {
  /** Open sessions per transport, in `transports` order. */
  sessions: number[];
  /** Messages and bytes per second: since the previous sample, or between a process's last two answers (null when unknown). */
  in_ps: number | null;
  out_ps: number | null;
  bytes_in_ps: number | null;
  bytes_out_ps: number | null;
  buffered: number;
}

/** One service's figures on one process. */
export interface ProcessService extends ServiceFigures {
  /** Rooms with members on this process (null in cluster totals: a room may span processes). */
  rooms: number | null;
}

export interface ProcessFigures {
  /** `hostname:pid`. */
  id: string;
  /** The process that serves this dashboard. */
  local: boolean;
  /** The ids of the adapters it answered through (none for this process). */
  adapters: string[];
  /** Milliseconds since its figures were asked for (0 for this process). */
  age_ms: number;
  /** It did not answer for over 3 s: probably gone (it is left out after 15 s). */
  stale: boolean;
  pid: number;
  uptime_s: number;
  rss: number;
  heap_used: number;
  /** CPU use in percent of one core between its last two answers (this process: two samples). */
  cpu: number | null;
  /** Open sessions over all services. */
  sessions: number;
  /** Per service of the dashboard; null when it did not answer for that service. */
  services: (ProcessService | null)[];
}

/** The sum over every process that is not stale. */
export interface ClusterFigures {
  processes: number;
  stale: number;
  services: ProcessService[];
}

/** How long a question waits for the other processes' answers. */
export const ASK_TIMEOUT_MS = 500;
export const STALE_MS = 3000;
export const FORGET_MS = 15_000;

interface Heard {
  report: ProcessReport;
  prev: ProcessReport | null;
  /** When the question it answers was asked (this process's clock). */
  at: number;
  adapter: string;
}

const perS = (cur: number, old: number, dt: number): number => Math.max(0, (cur - old) / dt);

function serviceOf(h: Heard, gapMs: number): ProcessService {
  const { report: r, prev } = h;
  const dt = prev === null ? 0 : (r.t - prev.t) / 1000;
  const ok = prev !== null && dt > 0 && dt * 1000 <= gapMs;
  return {
    sessions: TRANSPORTS.map((name) => r.sessions[name] ?? 0),
    in_ps: ok ? perS(r.msg_in, prev.msg_in, dt) : null,
    out_ps: ok ? perS(r.msg_out, prev.msg_out, dt) : null,
    bytes_in_ps: ok ? perS(r.bytes_in, prev.bytes_in, dt) : null,
    bytes_out_ps: ok ? perS(r.bytes_out, prev.bytes_out, dt) : null,
    buffered: r.buffered,
    rooms: r.rooms,
  };
}

function addRate(a: number | null, b: number | null): number | null {
  return a === null ? b : b === null ? a : a + b;
}

export function clusterOf(processes: readonly ProcessFigures[], services: number): ClusterFigures {
  const fresh = processes.filter((p) => !p.stale);
  const sum = (i: number): ProcessService => {
    const t: ProcessService = { sessions: TRANSPORTS.map(() => 0), in_ps: null, out_ps: null, bytes_in_ps: null, bytes_out_ps: null, buffered: 0, rooms: null };
    for (const p of fresh) {
      const s = p.services[i];
      if (s === null || s === undefined) continue;
      s.sessions.forEach((n, j) => (t.sessions[j]! += n));
      t.in_ps = addRate(t.in_ps, s.in_ps);
      t.out_ps = addRate(t.out_ps, s.out_ps);
      t.bytes_in_ps = addRate(t.bytes_in_ps, s.bytes_in_ps);
      t.bytes_out_ps = addRate(t.bytes_out_ps, s.bytes_out_ps);
      t.buffered += s.buffered;
    }
    return t;
  };
  return { processes: fresh.length, stale: processes.length - fresh.length, services: Array.from({ length: services }, (_, i) => sum(i)) };
}

export class Peers {
  /** Process id → what it answered last, per service. */
  private readonly heard = new Map<string, (Heard | undefined)[]>();
  private asked = 0;
  private open = 0;
  readonly self = processName();

  constructor(
    private readonly routers: readonly SockJSRouter[],
    private readonly intervalMs: number,
    private readonly gapMs: number,
  ) {}

  /** Whether each service's adapter can ask other processes at all. */
  canAsk(): boolean[] {
    return this.routers.map((r) => typeof r.config.adapter.ask === 'function');
  }

  /** Asks the other processes again: at most once an interval, and not while a question is open. */
  ask(now: number): void {
    if (this.open > 0 || now - this.asked < this.intervalMs - 50) return;
    if (now - this.asked > this.gapMs) this.heard.clear(); // nobody looked for a while: start over
    this.asked = now;
    this.routers.forEach((r, i) => {
      const adapter = r.config.adapter;
      if (adapter.ask === undefined) return;
      this.open++;
      adapter
        .ask(FIGURES_TOPIC, '', ASK_TIMEOUT_MS)
        .then((answers) => this.record(i, answers, now), () => undefined)
        .finally(() => this.open--);
    });
  }

  private record(service: number, answers: readonly AdapterAnswer[], at: number): void {
    for (const a of answers) {
      if (a.process === this.self) continue; // this process is the local row
      const report = parseReport(a.payload);
      if (report === null) continue;
      let per = this.heard.get(a.process);
      if (per === undefined) this.heard.set(a.process, (per = []));
      const old = per[service];
      per[service] = { report, prev: old !== undefined && old.adapter === a.adapter ? old.report : null, at, adapter: a.adapter };
    }
  }

  /** The other processes' rows, forgetting those silent for too long; `now` on this process's clock. */
  rows(now: number): ProcessFigures[] {
    const out: ProcessFigures[] = [];
    for (const [id, per] of this.heard) {
      per.forEach((h, i) => {
        if (h !== undefined && now - h.at > FORGET_MS) per[i] = undefined;
      });
      const heard = per.filter((h): h is Heard => h !== undefined);
      if (heard.length === 0) {
        this.heard.delete(id);
        continue;
      }
      const latest = heard.reduce((a, b) => (b.at > a.at || (b.at === a.at && b.report.t > a.report.t) ? b : a));
      const { report: r, prev } = latest;
      const services = this.routers.map((_, i) => (per[i] === undefined ? null : serviceOf(per[i]!, this.gapMs)));
      out.push({
        id,
        local: false,
        adapters: heard.map((h) => h.adapter),
        age_ms: now - latest.at,
        stale: now - latest.at > STALE_MS,
        pid: r.pid,
        uptime_s: r.uptime_s,
        rss: r.rss,
        heap_used: r.heap_used,
        cpu: prev === null || r.t <= prev.t ? null : Math.round(((r.cpu_us - prev.cpu_us) / 1000 / (r.t - prev.t)) * 1000) / 10,
        sessions: services.reduce((n, s) => n + (s === null ? 0 : s.sessions.reduce((a, b) => a + b, 0)), 0),
        services,
      });
    }
    return out.sort((a, b) => (a.id < b.id ? -1 : 1));
  }
}
