/**
 * The cross-process recovery store over Redis (lib/recovery/store.ts): room and broadcast
 * messages go into a Redis Stream that every process reads in order (XREAD on a connection of its
 * own), trimmed to twice the window and to `stream_max_len` entries; each recoverable
 * connection's state is a JSON string key that expires a little after the window. Reached only
 * through `sockjs-express/redis` (lib/redis.ts), which loads node-redis.
 */
import type { BroadcastPacket } from '../adapter.js';
import type { LoggedPacket, RecoveryStore, StoreHost, StoredLink } from './store.js';
import { comparePositions } from './store.js';
import { createRedisClient, cutRedisClient, endRedisClient, type RedisLifecycle } from '../redis-client.js';

/** The part of a node-redis (v4 or later) client the store uses. */
export interface RedisCommandClient extends RedisLifecycle {
  sendCommand(args: string[]): Promise<unknown>;
  duplicate(): RedisCommandClient;
  on(event: 'error', listener: (err: Error) => void): unknown;
}

export interface RedisStoreOptions {
  url?: string;
  /** A client to duplicate (never used itself). */
  client?: { duplicate(): unknown };
  /** Key prefix: the stream is `<prefix>:stream`, a connection's state `<prefix>:conn:<key>`. */
  prefix: string;
  window_ms: number;
  /** Entries kept at most (approximately, MAXLEN ~). */
  max_len: number;
}

// Entries read per XREAD, and how long one blocks before looping (it is interrupted by close()).
const READ_COUNT = '512';
const BLOCK_MS = '2000';

/** XREAD / XRANGE entries: [id, [field, value, ...]]. */
type RawEntry = [string, string[]];

function toPacket(entry: RawEntry): LoggedPacket | null {
  const [id, fields] = entry;
  let message: string | undefined;
  let room: string | null = null;
  let except: string[] | undefined;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const v = String(fields[i + 1]);
    if (fields[i] === 'm') message = v;
    else if (fields[i] === 'r') room = v;
    else if (fields[i] === 'e') {
      try {
        const list: unknown = JSON.parse(v);
        if (Array.isArray(list)) except = list.map(String);
      } catch {
        // not ours
      }
    }
  }
  return message === undefined ? null : { id: String(id), room, message, except };
}

export class RedisRecoveryStore implements RecoveryStore {
  cursor = '';
  private host: StoreHost | null = null;
  private cmd: RedisCommandClient | null = null;
  private reader: RedisCommandClient | null = null;
  private readonly stream: string;
  private closed = false;
  private trimTimer: NodeJS.Timeout | null = null;
  private readonly ready: Promise<RedisCommandClient>;

  constructor(private readonly options: RedisStoreOptions) {
    this.stream = options.prefix + ':stream';
    this.ready = this.start();
    // Failures are reported through the host (bind); nothing waits on this promise otherwise.
    this.ready.catch(() => undefined);
  }

  whenReady(): Promise<void> {
    return this.ready.then(() => undefined);
  }

  bind(host: StoreHost): void {
    this.host = host;
    this.ready.then(() => this.read()).catch((err: unknown) => this.failed(err));
  }

  private async start(): Promise<RedisCommandClient> {
    const base = (this.options.client ?? (await createRedisClient(this.options.url))) as RedisCommandClient;
    if (this.closed) throw new Error('closed');
    const cmd = base.duplicate();
    const reader = base.duplicate();
    this.cmd = cmd;
    this.reader = reader;
    for (const c of [cmd, reader]) c.on('error', (err) => this.failed(err));
    await Promise.all([cmd.connect(), reader.connect()]);
    if (this.closed) throw new Error('closed');
    // Start after the newest entry: older ones belong to connections this process never had.
    const last = (await cmd.sendCommand(['XREVRANGE', this.stream, '+', '-', 'COUNT', '1'])) as RawEntry[];
    if (this.closed) throw new Error('closed');
    this.cursor = last.length > 0 ? String(last[0]![0]) : '0-0';
    const every = Math.max(1000, Math.min(this.options.window_ms / 4, 30_000));
    this.trimTimer = setInterval(() => this.trim(), every);
    this.trimTimer.unref();
    return cmd;
  }

  private async read(): Promise<void> {
    while (!this.closed) {
      let reply: unknown;
      try {
        reply = await this.reader!.sendCommand(['XREAD', 'COUNT', READ_COUNT, 'BLOCK', BLOCK_MS, 'STREAMS', this.stream, this.cursor]);
      } catch (err) {
        if (this.closed) return;
        this.failed(err);
        await new Promise((r) => setTimeout(r, 500));
        continue;
      }
      if (!Array.isArray(reply) || reply.length === 0) continue;
      const entries = (reply[0] as [string, RawEntry[]])[1];
      for (const entry of entries) {
        const packet = toPacket(entry);
        if (packet !== null && !this.closed) this.host?.deliver(packet, packet.id);
        this.cursor = String(entry[0]);
      }
    }
  }

  publish(packet: BroadcastPacket): void {
    const args = ['XADD', this.stream, 'MAXLEN', '~', String(this.options.max_len), '*', 'm', packet.message];
    if (packet.room !== null) args.push('r', packet.room);
    if (packet.except !== undefined && packet.except.length > 0) args.push('e', JSON.stringify(packet.except));
    this.command(args);
  }

  save(key: string, state: StoredLink, create: boolean): void {
    this.command(['SET', this.key(key), JSON.stringify(state), 'PX', String(this.ttl()), create ? 'NX' : 'XX']);
  }

  drop(key: string): void {
    this.command(['DEL', this.key(key)]);
  }

  touch(keys: Iterable<string>): void {
    const ttl = String(this.ttl());
    for (const k of keys) this.command(['PEXPIRE', this.key(k), ttl]);
  }

  async load(key: string): Promise<StoredLink | null> {
    const cmd = await this.ready;
    const raw = await cmd.sendCommand(['GET', this.key(key)]);
    if (typeof raw !== 'string') return null;
    try {
      const v = JSON.parse(raw) as StoredLink;
      return typeof v.id === 'string' && typeof v.h === 'string' && Array.isArray(v.r) && typeof v.n === 'number' ? v : null;
    } catch {
      return null;
    }
  }

  async claim(key: string): Promise<boolean> {
    const cmd = await this.ready;
    return Number(await cmd.sendCommand(['DEL', this.key(key)])) === 1;
  }

  async range(after: string, upTo: string): Promise<LoggedPacket[] | null> {
    const cmd = await this.ready;
    if (comparePositions(after, upTo) >= 0) return [];
    const [info, entries] = await Promise.all([
      cmd.sendCommand(['XINFO', 'STREAM', this.stream]).catch(() => null),
      cmd.sendCommand(['XRANGE', this.stream, '(' + after, upTo]),
    ]);
    // Redis 7 says the newest entry it ever deleted: after `after`, something is missing.
    if (!Array.isArray(info)) return null;
    const at = info.indexOf('max-deleted-entry-id');
    if (at === -1 || comparePositions(String(info[at + 1]), after) > 0) return null;
    const out: LoggedPacket[] = [];
    for (const e of entries as RawEntry[]) {
      const p = toPacket(e);
      if (p !== null) out.push(p);
    }
    return out;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.trimTimer !== null) clearInterval(this.trimTimer);
    const cmd = this.cmd;
    const reader = this.reader;
    // The reader is blocked in XREAD: cut it rather than wait for the block to end.
    if (reader !== null) await cutRedisClient(reader);
    if (cmd !== null) await endRedisClient(cmd);
  }

  private trim(): void {
    // A client may resume from a position up to a window old plus the age of its last marker
    // (markers are refreshed every quarter window): twice the window covers both.
    this.command(['XTRIM', this.stream, 'MINID', '~', String(Date.now() - 2 * this.options.window_ms)]);
  }

  private ttl(): number {
    return this.options.window_ms + Math.max(1000, Math.min(this.options.window_ms / 4, 30_000)) * 2;
  }

  private key(k: string): string {
    return this.options.prefix + ':conn:' + k;
  }

  private command(args: string[]): void {
    if (this.closed) return;
    this.ready.then((c) => c.sendCommand(args)).catch((err: unknown) => this.failed(err));
  }

  private failed(err: unknown): void {
    if (this.closed) return;
    this.host?.error(err instanceof Error ? err : new Error(String(err)));
  }
}
