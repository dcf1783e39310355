/**
 * The dashboard's figures, computed only when a page asks for them. There is no timer: the history
 * of the last minutes is a ring of samples taken on demand (at most one a second, shared by every
 * open page), so nothing runs while no page is open; a hole in the history marks the time between.
 */
import type { Connection } from '../connection.js';
import type { SockJSRouter } from '../router.js';
import { getHeapStatistics } from 'node:v8';
import { CLOSE_CAUSES, TRANSPORTS, type Stats } from '../stats.js';
import { Peers, clusterOf, type ClusterFigures, type ProcessFigures, type ServiceFigures } from './processes.js';

/** A service as the dashboard shows it. */
export interface DashboardService {
  /** The given name, or null: then the mount path of its connections, or `#n`. */
  readonly name: string | null;
  readonly router: SockJSRouter;
}

/** One service's figures at one moment of the history. */
export interface ServiceSample extends ServiceFigures {
  /** Sessions opened, and closed per cause (in `causes` order), since the previous sample. */
  opened: number | null;
  closed: number[] | null;
}

export interface Sample {
  /** Milliseconds since the epoch. */
  t: number;
  /** No page was open before this sample: its rates are unknown and charts break the line here. */
  gap: boolean;
  services: ServiceSample[];
  /** This process's CPU use since the previous sample, in percent of one core (null after a hole). */
  cpu: number | null;
}

export interface ConsumerRow {
  service: number;
  id: string;
  transport: string;
  remote: string | null;
  buffered: number;
  rooms: number;
}

export interface RoomRow {
  service: number;
  name: string;
  size: number;
}

/** What `GET api/snapshot` answers. */
export interface DashboardSnapshot {
  now: number;
  interval_ms: number;
  history_s: number;
  transports: readonly string[];
  causes: readonly string[];
  services: string[];
  actions: boolean;
  /** Samples taken after `since` (all of them when `since` is absent). */
  samples: Sample[];
  rooms: { total: number; top: RoomRow[] };
  slowest: ConsumerRow[];
  /** This process first, then the others that answered through the services' adapters. */
  processes: ProcessFigures[];
  /** The processes summed, per service. */
  cluster: ClusterFigures;
  /** Per service: its adapter can ask other processes (false: only this process can be shown). */
  asks: boolean[];
  /** The CPU time the server spent on the previous snapshot (without its JSON), in microseconds. */
  cost_us: number;
}

interface Totals {
  msgIn: number;
  msgOut: number;
  bytesIn: number;
  bytesOut: number;
  opened: number;
  closed: number[];
}

export const INTERVAL_MS = 1000;
/** Longer than this without a request and the next sample starts after a hole. */
const GAP_MS = 5000;

function sum(values: Float64Array): number {
  let n = 0;
  for (let i = 0; i < values.length; i++) n += values[i]!;
  return n;
}

// The counters themselves rather than stats.dump(): no per-field objects, and buffered bytes are
// summed in the snapshot's own pass over the connections.
function totalsOf(st: Stats): Totals {
  return {
    msgIn: sum(st.msgIn),
    msgOut: sum(st.msgOut),
    bytesIn: sum(st.bytesIn),
    bytesOut: sum(st.bytesOut),
    opened: sum(st.opened),
    closed: CLOSE_CAUSES.map((c) => st.closedBy[c]),
  };
}

/** Keeps the `n` most buffered connections, most buffered first, in one pass. */
function pushTop(top: ConsumerRow[], row: ConsumerRow, n: number): void {
  if (top.length === n && row.buffered <= top[n - 1]!.buffered) return;
  let i = top.length;
  while (i > 0 && top[i - 1]!.buffered < row.buffered) i--;
  top.splice(i, 0, row);
  if (top.length > n) top.pop();
}

function consumerRow(service: number, c: Connection, buffered: number): ConsumerRow {
  return { service, id: c.id, transport: c.protocol, remote: c.remoteAddress ?? null, buffered, rooms: c.rooms.size };
}

function labelOf(s: DashboardService, i: number): string {
  if (s.name !== null) return s.name;
  for (const c of s.router.connections) return c.prefix === '' ? '/' : c.prefix;
  return '#' + (i + 1);
}

export class Sampler {
  private readonly samples: Sample[] = [];
  private last: { t: number; totals: Totals[]; cpu: NodeJS.CpuUsage } | null = null;
  private costUs = 0;
  private readonly peers: Peers;

  constructor(
    private readonly services: readonly DashboardService[],
    private readonly historyS: number,
    private readonly top: number,
    private readonly actions: boolean,
  ) {
    this.peers = new Peers(services.map((s) => s.router), INTERVAL_MS, GAP_MS);
  }

  /** The snapshot for a page that has every sample up to `since` (ms; 0 for all). */
  snapshot(since: number, now = Date.now()): DashboardSnapshot {
    const cpu0 = process.cpuUsage();
    const slowest: ConsumerRow[] = [];
    const roomSizes: RoomRow[] = [];
    const buffered: number[] = [];
    const roomCounts: number[] = [];
    let sessions = 0;
    // One pass over the connections for buffered bytes, the slowest of them, and room sizes.
    this.services.forEach((s, i) => {
      const sizes = new Map<string, number>();
      let b = 0;
      for (const c of s.router.connections) {
        sessions++;
        const amount = c.bufferedAmount;
        if (amount > 0) {
          b += amount;
          pushTop(slowest, consumerRow(i, c, amount), this.top);
        }
        for (const room of c.rooms) sizes.set(room, (sizes.get(room) ?? 0) + 1);
      }
      buffered.push(b);
      roomCounts.push(sizes.size);
      for (const [name, size] of sizes) roomSizes.push({ service: i, name, size });
    });
    if (this.last === null || now - this.last.t >= INTERVAL_MS - 50) this.sample(now, buffered);
    this.peers.ask(now);
    roomSizes.sort((a, b) => b.size - a.size || (a.name < b.name ? -1 : 1));
    const latest = this.samples[this.samples.length - 1]!;
    const processes: ProcessFigures[] = [{
      id: this.peers.self, local: true, adapters: [], age_ms: 0, stale: false,
      pid: process.pid, uptime_s: Math.round(process.uptime()), rss: process.memoryUsage.rss(),
      heap_used: getHeapStatistics().used_heap_size, cpu: latest.cpu, sessions,
      services: latest.services.map((x, i) => ({
        sessions: x.sessions, in_ps: x.in_ps, out_ps: x.out_ps, bytes_in_ps: x.bytes_in_ps, bytes_out_ps: x.bytes_out_ps, buffered: x.buffered, rooms: roomCounts[i]!,
      })),
    }, ...this.peers.rows(now)];
    const snap: DashboardSnapshot = {
      now,
      interval_ms: INTERVAL_MS,
      history_s: this.historyS,
      transports: TRANSPORTS,
      causes: CLOSE_CAUSES,
      services: this.services.map(labelOf),
      actions: this.actions,
      samples: since > 0 ? this.samples.filter((x) => x.t > since) : this.samples.slice(),
      rooms: { total: roomSizes.length, top: roomSizes.slice(0, this.top) },
      slowest,
      processes,
      cluster: clusterOf(processes, this.services.length),
      asks: this.peers.canAsk(),
      cost_us: this.costUs,
    };
    const spent = process.cpuUsage(cpu0);
    this.costUs = spent.user + spent.system;
    return snap;
  }

  private sample(now: number, buffered: readonly number[]): void {
    const prev = this.last;
    const gap = prev === null || now - prev.t > GAP_MS;
    const dt = gap ? 0 : (now - prev.t) / 1000;
    const stats = this.services.map((s) => s.router.stats);
    const totals = stats.map(totalsOf);
    const rate = (a: number, b: number): number | null => (gap ? null : Math.max(0, (a - b) / dt));
    const services = stats.map((st, i): ServiceSample => {
      const cur = totals[i]!;
      const old = prev?.totals[i];
      return {
        sessions: Array.from(st.open),
        in_ps: old === undefined ? null : rate(cur.msgIn, old.msgIn),
        out_ps: old === undefined ? null : rate(cur.msgOut, old.msgOut),
        bytes_in_ps: old === undefined ? null : rate(cur.bytesIn, old.bytesIn),
        bytes_out_ps: old === undefined ? null : rate(cur.bytesOut, old.bytesOut),
        buffered: buffered[i]!,
        opened: gap || old === undefined ? null : cur.opened - old.opened,
        closed: gap || old === undefined ? null : cur.closed.map((n, j) => n - old.closed[j]!),
      };
    });
    const cpu = process.cpuUsage();
    const cpuPct = gap ? null : Math.round(((cpu.user - prev.cpu.user + cpu.system - prev.cpu.system) / 1000 / (now - prev.t)) * 1000) / 10;
    this.samples.push({ t: now, gap, services, cpu: cpuPct });
    const oldest = now - this.historyS * 1000;
    let drop = 0;
    while (drop < this.samples.length && this.samples[drop]!.t < oldest) drop++;
    if (drop > 0) this.samples.splice(0, drop);
    this.last = { t: now, totals, cpu };
  }
}
