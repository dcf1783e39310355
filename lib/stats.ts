/**
 * Live counters of one service, as sockjs-tornado's `stats` plus totals. The hot path only adds
 * to plain numbers and typed arrays; rates are computed once a second by one unref'd timer per
 * service, and everything derived (buffered bytes, snapshots) is computed when read.
 */
import type { Connection } from './connection.js';
import type { TransportName } from './options.js';
import type { CloseCause } from './session/session.js';

export const TRANSPORTS: readonly TransportName[] = [
  'websocket', 'websocket-raw', 'xhr-streaming', 'xhr-polling', 'eventsource', 'htmlfile', 'jsonp-polling',
];
/** sockjs-tornado's names for the per-transport counters. */
const TORNADO_NAMES = ['transp_websocket', 'transp_rawwebsocket', 'transp_xhr_streaming', 'transp_xhr', 'transp_eventsource', 'transp_htmlfile', 'transp_jsonp'] as const;

export function transportIndex(name: TransportName): number {
  return TRANSPORTS.indexOf(name);
}

export const CLOSE_CAUSES: readonly CloseCause[] = ['client', 'server', 'timeout', 'interrupted', 'limit', 'shutdown'];

/** Seconds the moving averages cover. */
const WINDOW = 10;

/** A per-second rate averaged over the last WINDOW seconds. */
class MovingRate {
  private readonly samples = new Float64Array(WINDOW);
  private filled = 0;
  private next = 0;
  private sum = 0;
  private lastTotal = 0;

  sample(total: number): void {
    const delta = total - this.lastTotal;
    this.lastTotal = total;
    this.sum += delta - this.samples[this.next]!;
    this.samples[this.next] = delta;
    this.next = (this.next + 1) % WINDOW;
    if (this.filled < WINDOW) this.filled++;
  }

  get value(): number {
    return this.filled === 0 ? 0 : this.sum / this.filled;
  }
}

export type PerTransport = Record<TransportName, number>;

/** What `router.stats.dump()` returns: plain, JSON-able numbers. */
export interface StatsSnapshot {
  sessions_active: number;
  transp_websocket: number;
  transp_rawwebsocket: number;
  transp_xhr: number;
  transp_xhr_streaming: number;
  transp_eventsource: number;
  transp_htmlfile: number;
  transp_jsonp: number;
  connections_active: number;
  connections_ps: number;
  packets_sent_ps: number;
  packets_recv_ps: number;
  sessions_opened_total: number;
  sessions_opened: PerTransport;
  sessions_closed: Record<CloseCause, number>;
  connections_total: number;
  messages_in_total: number;
  messages_out_total: number;
  bytes_in_total: number;
  bytes_out_total: number;
  messages_in: PerTransport;
  messages_out: PerTransport;
  bytes_in: PerTransport;
  bytes_out: PerTransport;
  buffered_bytes: number;
}

function perTransport(values: Float64Array): PerTransport {
  const out = {} as PerTransport;
  for (let i = 0; i < TRANSPORTS.length; i++) out[TRANSPORTS[i]!] = values[i]!;
  return out;
}

function sum(values: Float64Array): number {
  let s = 0;
  for (let i = 0; i < values.length; i++) s += values[i]!;
  return s;
}

export class Stats {
  /** @internal indexed by transportIndex() */
  readonly open = new Float64Array(TRANSPORTS.length);
  /** @internal */
  readonly opened = new Float64Array(TRANSPORTS.length);
  /** @internal */
  readonly msgIn = new Float64Array(TRANSPORTS.length);
  /** @internal */
  readonly msgOut = new Float64Array(TRANSPORTS.length);
  /** @internal */
  readonly bytesIn = new Float64Array(TRANSPORTS.length);
  /** @internal */
  readonly bytesOut = new Float64Array(TRANSPORTS.length);
  /** @internal */
  readonly closedBy: Record<CloseCause, number> = { client: 0, server: 0, timeout: 0, interrupted: 0, limit: 0, shutdown: 0 };
  /** @internal receiving requests and websockets attached right now */
  connectionsActive = 0;
  /** @internal */
  connectionsTotal = 0;
  private readonly connRate = new MovingRate();
  private readonly sentRate = new MovingRate();
  private readonly recvRate = new MovingRate();
  private timer: NodeJS.Timeout | null = null;

  /** @internal */
  constructor(private readonly connections: ReadonlySet<Connection>) {}

  /** @internal Starts the once-a-second sampling (idempotent). */
  start(): void {
    if (this.timer !== null) return;
    this.timer = setInterval(() => this.sample(), 1000);
    this.timer.unref();
  }

  /** @internal */
  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  private sample(): void {
    this.connRate.sample(this.connectionsTotal);
    this.sentRate.sample(sum(this.msgOut));
    this.recvRate.sample(sum(this.msgIn));
  }

  /** Open sessions. */
  get sessions_active(): number {
    return this.connections.size;
  }

  /** Transport connections attached right now (websockets and receiving HTTP requests). */
  get connections_active(): number {
    return this.connectionsActive;
  }

  /** New transport connections per second, averaged over 10 s. */
  get connections_ps(): number {
    return this.connRate.value;
  }

  /** Messages sent per second, averaged over 10 s. */
  get packets_sent_ps(): number {
    return this.sentRate.value;
  }

  /** Messages received per second, averaged over 10 s. */
  get packets_recv_ps(): number {
    return this.recvRate.value;
  }

  /** Bytes written by the application and not yet sent, over all open sessions. */
  get buffered_bytes(): number {
    let b = 0;
    for (const c of this.connections) b += c.bufferedAmount;
    return b;
  }

  /** A plain snapshot of every counter. */
  dump(): StatsSnapshot {
    const open = this.open;
    const snap = {
      sessions_active: this.sessions_active,
    } as StatsSnapshot;
    for (let i = 0; i < TORNADO_NAMES.length; i++) snap[TORNADO_NAMES[i]!] = open[i]!;
    snap.connections_active = this.connectionsActive;
    snap.connections_ps = this.connections_ps;
    snap.packets_sent_ps = this.packets_sent_ps;
    snap.packets_recv_ps = this.packets_recv_ps;
    snap.sessions_opened_total = sum(this.opened);
    snap.sessions_opened = perTransport(this.opened);
    snap.sessions_closed = { ...this.closedBy };
    snap.connections_total = this.connectionsTotal;
    snap.messages_in_total = sum(this.msgIn);
    snap.messages_out_total = sum(this.msgOut);
    snap.bytes_in_total = sum(this.bytesIn);
    snap.bytes_out_total = sum(this.bytesOut);
    snap.messages_in = perTransport(this.msgIn);
    snap.messages_out = perTransport(this.msgOut);
    snap.bytes_in = perTransport(this.bytesIn);
    snap.bytes_out = perTransport(this.bytesOut);
    snap.buffered_bytes = this.buffered_bytes;
    return snap;
  }
}
