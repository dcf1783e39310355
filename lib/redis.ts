/**
 * `sockjs-express/redis`: an adapter that carries broadcasts and room sends between processes
 * over Redis pub/sub. It uses node-redis (`npm install redis`), an optional peer dependency that
 * is imported only when this adapter is created.
 *
 *   sockjs({ adapter: redisAdapter({ url: 'redis://127.0.0.1:6379' }) })
 *
 * Order: one publishing connection per process, so packets keep their order per publisher.
 * Outages: reported once each through the router's 'adapter_error' (and the log); packets
 * published meanwhile wait in a bounded queue and go out, in order, when Redis is back.
 * Questions between processes (`ask`, for the dashboard) use their own channels: redis-control.ts.
 */
import { randomUUID } from 'node:crypto';
import type { Adapter, AdapterAnswer, AdapterHost, BroadcastPacket } from './adapter.js';
import { createRedisClient, endRedisClient, type RedisLifecycle } from './redis-client.js';
import { RedisControl } from './redis-control.js';
import { RedisRecoveryStore } from './recovery/redis-store.js';
import type { RecoveryStore } from './recovery/store.js';

/** The part of a node-redis (v4 or later) client this adapter uses. */
export interface RedisClientLike extends RedisLifecycle {
  publish(channel: string, message: string): Promise<unknown>;
  subscribe(channel: string, listener: (message: string) => void): Promise<unknown>;
  duplicate(): RedisClientLike;
  on(event: 'error', listener: (err: Error) => void): unknown;
  on(event: 'ready', listener: () => void): unknown;
}

export interface RedisAdapterOptions {
  /** Where Redis is, when no `client` is given. Default `redis://127.0.0.1:6379`. */
  url?: string;
  /** A node-redis client to publish with (not yet connected); a duplicate of it subscribes. */
  client?: RedisClientLike;
  /** The pub/sub channel; services that share one must be the same service in each process. Default `sockjs-express`. */
  channel?: string;
  /** Packets kept while Redis is unreachable; older ones are dropped (and counted) beyond it. Default 10 000. */
  max_queue?: number;
  /** With `recovery`: entries the Redis Stream `<channel>:stream` keeps at most (MAXLEN ~). Default 100 000. */
  stream_max_len?: number;
}

interface WirePacket {
  /** The publishing adapter: a process ignores its own packets. */
  n: string;
  r: string | null;
  m: string;
  e?: readonly string[];
}

// After a publish failed on a connection that stayed up, the queue is sent again this much later.
const RETRY_MS = 200;

class RedisAdapter implements Adapter {
  private readonly id = randomUUID();
  private readonly channel: string;
  private readonly maxQueue: number;
  private host: AdapterHost | null = null;
  private pub: RedisClientLike | null = null;
  private sub: RedisClientLike | null = null;
  /** Encoded packets waiting for Redis, oldest first. */
  private queue: string[] = [];
  private dropped = 0;
  private down = false;
  private closed = false;
  /** Packets put back at the front of the queue since it last drained (failures come in order). */
  private requeued = 0;
  /** A drain retry is pending: a publish failed while the client still reported ready. */
  private retrying = false;
  private readonly control: RedisControl;

  constructor(private readonly options: RedisAdapterOptions) {
    this.channel = options.channel ?? 'sockjs-express';
    this.maxQueue = options.max_queue ?? 10_000;
    this.control = new RedisControl(this.channel, this.id);
  }

  bind(host: AdapterHost): void {
    this.host = host;
    this.start(host).catch((err: unknown) => this.failed(err instanceof Error ? err : new Error(String(err))));
  }

  private async start(host: AdapterHost): Promise<void> {
    const pub = this.options.client ?? ((await createRedisClient(this.options.url)) as RedisClientLike);
    if (this.closed) return;
    const sub = pub.duplicate();
    this.pub = pub;
    this.sub = sub;
    for (const client of [pub, sub]) {
      client.on('error', (err) => this.failed(err));
      client.on('ready', () => this.ready());
    }
    await Promise.all([pub.connect(), sub.connect()]);
    if (this.closed) return;
    // node-redis subscribes again by itself after every reconnect.
    await Promise.all([sub.subscribe(this.channel, (raw) => this.receive(raw)), this.control.start(pub, sub, host)]);
    this.ready();
  }

  /** With `recovery` on, room and broadcast messages go through a Redis Stream instead (lib/recovery/redis-store.ts). */
  recoveryStore(recovery: { window_ms: number }): RecoveryStore {
    const o = this.options;
    return new RedisRecoveryStore({ url: o.url, client: o.client, prefix: this.channel, window_ms: recovery.window_ms, max_len: o.stream_max_len ?? 100_000 });
  }

  publish(packet: BroadcastPacket): void {
    if (this.closed) return;
    const wire: WirePacket = { n: this.id, r: packet.room, m: packet.message };
    if (packet.except !== undefined && packet.except.length > 0) wire.e = packet.except;
    const raw = JSON.stringify(wire);
    if (this.queue.length === 0 && this.pub !== null && this.pub.isReady) this.send(raw);
    else this.enqueue(raw);
  }

  ask(topic: string, payload: string, timeoutMs: number): Promise<AdapterAnswer[]> {
    return this.control.ask(topic, payload, timeoutMs);
  }

  close(): Promise<void> {
    this.closed = true;
    this.control.close();
    const clients = [this.pub, this.sub].filter((c): c is RedisClientLike => c !== null);
    return Promise.all(clients.map(endRedisClient)).then(() => undefined);
  }

  private send(raw: string): void {
    this.pub!.publish(this.channel, raw).catch((err: unknown) => {
      // Lost on the way out: keep it for the next try, ahead of what was queued since, and
      // behind the packets that failed before it (publishes fail in the order they were sent).
      this.queue.splice(this.requeued++, 0, raw);
      this.failed(err instanceof Error ? err : new Error(String(err)));
      // A client that still reports ready sends no 'ready' to wait for: try again shortly.
      if (!this.retrying && this.pub !== null && this.pub.isReady) {
        this.retrying = true;
        setTimeout(() => {
          this.retrying = false;
          this.ready();
        }, RETRY_MS).unref();
      }
    });
  }

  private enqueue(raw: string): void {
    this.queue.push(raw);
    if (this.queue.length > this.maxQueue) {
      this.queue.shift();
      this.dropped++;
    }
  }

  private receive(raw: string): void {
    let wire: WirePacket;
    try {
      wire = JSON.parse(raw) as WirePacket;
    } catch {
      return; // not ours: someone else publishes on this channel
    }
    if (wire.n === this.id || typeof wire.m !== 'string') return;
    this.host?.deliver({ room: typeof wire.r === 'string' ? wire.r : null, message: wire.m, except: Array.isArray(wire.e) ? wire.e : undefined });
  }

  private ready(): void {
    if (this.closed || this.pub === null || !this.pub.isReady || this.sub === null || !this.sub.isReady) return;
    if (this.down) {
      this.down = false;
      if (this.dropped > 0) {
        this.host?.error(new Error(`Redis is back; ${this.dropped} broadcast(s) were dropped while it was away (max_queue ${this.maxQueue})`));
        this.dropped = 0;
      }
    }
    const pending = this.queue;
    this.queue = [];
    this.requeued = 0;
    for (const raw of pending) this.send(raw);
  }

  /** Once per outage: the router logs it and emits 'adapter_error'. */
  private failed(err: Error): void {
    if (this.closed || this.down) return;
    this.down = true;
    this.host?.error(err);
  }
}

/** An adapter that carries broadcasts between processes over Redis pub/sub. */
export function redisAdapter(options: RedisAdapterOptions = {}): Adapter {
  if (options === null || typeof options !== 'object') throw new TypeError('sockjs-express: redisAdapter(options) takes an object');
  if (options.max_queue !== undefined && (!Number.isInteger(options.max_queue) || options.max_queue < 0)) {
    throw new TypeError(`sockjs-express: redisAdapter option "max_queue" must be a non-negative integer (got ${String(options.max_queue)})`);
  }
  if (options.stream_max_len !== undefined && (!Number.isInteger(options.stream_max_len) || options.stream_max_len < 1)) {
    throw new TypeError(`sockjs-express: redisAdapter option "stream_max_len" must be a positive integer (got ${String(options.stream_max_len)})`);
  }
  return new RedisAdapter(options);
}
