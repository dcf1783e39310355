/**
 * Recovery across processes (docs/recovery.md, "Across processes"), over a shared store
 * (lib/recovery/store.ts): every room and broadcast message goes through the store's log and is
 * delivered, in every process, in log order. Each connection tells its client where it stands in
 * that log with position markers (`p`, `d`), only when the kind of message changes, so the
 * client can say exactly what it has; another process then replays the rest from the log.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { BroadcastPacket } from '../adapter.js';
import { quote } from '../protocol/frames.js';
import type { Service } from '../service.js';
import type { Link } from './link.js';
import { LogState } from './log-state.js';
import type { Recovery } from './recovery.js';
import { comparePositions, isPosition, type LoggedPacket, type RecoveryStore, type RoomsVersion, type StoredLink } from './store.js';
import { control, count, type HelloMessage } from './wire.js';

const STOP = quote(control({ t: 'd' }));
/** Rooms versions kept per connection (a resume from an older one is refused as a gap). */
const MAX_VERSIONS = 16;
/** How long a resume waits for this process to read as far as its client got (polled every 20 ms). */
const CATCH_UP_MS = 5000;
const ACK_MS = 1000;

export function hashSecret(secret: Buffer): string {
  return createHash('sha256').update(secret).digest('base64url');
}

/** A resume credential `key.secret` taken apart, or null when it cannot be one. */
export function parseCredential(token: unknown): { key: string; secret: Buffer } | null {
  if (typeof token !== 'string' || token.length > 200) return null;
  const dot = token.indexOf('.');
  return dot === -1 ? null : { key: token.slice(0, dot), secret: Buffer.from(token.slice(dot + 1), 'base64url') };
}

/** What another process left of a connection, ready to take over. */
interface Takeover {
  state: StoredLink;
  replay: { before: string; packet: LoggedPacket }[];
}

type Refusal = 'unknown' | 'gap';

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}

export class RemoteRecovery {
  /** Links whose clients speak version 2 (they get markers, and their state is in the store). */
  readonly links = new Set<Link>();
  /** While an entry of the log is being delivered: the position before it. */
  private before: string | null = null;
  private readonly timer: NodeJS.Timeout;
  private readonly ackTimer: NodeJS.Timeout;

  constructor(
    private readonly service: Service,
    private readonly recovery: Recovery,
    readonly store: RecoveryStore,
  ) {
    store.bind({
      deliver: (packet) => this.deliver(packet),
      error: (err) => service.adapterError(err),
    });
    const every = Math.max(1000, Math.min(recovery.options.window_ms / 4, 30_000));
    this.timer = setInterval(() => this.tick(), every);
    this.timer.unref();
    // After a move, the client sends again what the server had not acknowledged: acknowledging
    // within a second (not only every 32 messages) keeps that to the last second's messages.
    this.ackTimer = setInterval(() => {
      for (const link of this.links) link.ack();
    }, ACK_MS);
    this.ackTimer.unref();
  }

  /** A room send or broadcast of this process: into the log (delivered here too when read back). */
  publish(packet: BroadcastPacket): number {
    this.store.publish(packet);
    return packet.room === null ? this.service.connections.size : this.service.rooms.membersOf(packet.room).size;
  }

  /** An entry of the log (the store moves its cursor past it afterwards). */
  private deliver(packet: BroadcastPacket): void {
    this.before = this.store.cursor;
    try {
      this.service.deliverLocal(packet);
    } finally {
      this.before = null;
    }
  }

  /** The marker `link` needs before its next message (quoted), or ''. */
  markFor(link: Link): string {
    const logged = this.before !== null;
    const log = link.log!;
    if (!logged && log.direct === 0) {
      log.direct = 1;
      this.save(link, false);
    }
    if (log.counting === logged) return '';
    log.counting = logged;
    return logged ? quote(control({ t: 'p', s: this.before!, g: log.g })) : STOP;
  }

  /** A client that speaks version 2 got a new connection: it starts at the log's current position. */
  adopt(link: Link): void {
    link.log = new LogState([[0, this.store.cursor, []]]);
    this.links.add(link);
  }

  get cursor(): string {
    return this.store.cursor;
  }

  /** The connection's rooms changed: a new version, from the current position on. */
  roomsChanged(link: Link): void {
    const log = link.log!;
    log.g++;
    log.versions.push([log.g, this.store.cursor, [...link.conn.rooms]]);
    if (log.versions.length > MAX_VERSIONS) log.versions.shift();
    // Whatever goes next, the client must learn where it stands.
    log.counting = null;
    this.save(link, false);
  }

  save(link: Link, create: boolean): void {
    const secrets = this.recovery.secretsOf(link);
    const log = link.log;
    if (secrets === null || log === null) return;
    log.saved = link.received;
    this.store.save(link.key, { id: link.conn.id, h: secrets.h, p: secrets.p, r: log.versions, d: log.direct, n: link.received }, create);
  }

  /** The link ended; on a shutdown its state stays, for the client to resume on another process. */
  forget(link: Link, keepState: boolean): void {
    if (!this.links.delete(link)) return;
    if (!keepState && link.key !== '') this.store.drop(link.key);
  }

  /**
   * A resume for a connection this process does not hold: look for it in the store. Resolves to
   * the takeover, or why it cannot be.
   */
  async find(hello: HelloMessage, maxReplay: number): Promise<Takeover | Refusal> {
    const credential = parseCredential(hello.resume);
    const s = hello.s;
    const g = count(hello.g);
    const k = count(hello.k);
    if (credential === null || !isPosition(s) || g === undefined || k === undefined) return 'unknown';
    const key = credential.key;
    const state = await this.store.load(key);
    if (state === null || !matches(credential.secret, state)) return 'unknown';
    const from = state.r.findIndex((v) => v[0] === g);
    if (from === -1) return 'gap';
    // Single use: of two resumes with the same credential, one takes it.
    if (!(await this.store.claim(key))) return 'unknown';
    const walked = await this.walk(state.id, state.r.slice(from), s, k, maxReplay);
    if (walked === 'gap') {
      // Not resumable after all; the state goes back so the error is the same next time.
      this.store.save(key, state, true);
      return 'gap';
    }
    return { state, replay: walked };
  }

  /**
   * The log from `s` on, as the connection `id` would have received it with these rooms
   * versions: the first `k` of its messages the client has; the rest it missed. Reads until this
   * process has delivered as far, so that nothing is both replayed and delivered live.
   */
  private async walk(id: string, versions: RoomsVersion[], s: string, k: number, maxReplay: number): Promise<Takeover['replay'] | 'gap'> {
    const replay: Takeover['replay'] = [];
    let after = s;
    let skip = k;
    let v = 0;
    const start = Date.now();
    for (;;) {
      const upTo = this.store.cursor;
      const behind = upTo === '' || comparePositions(upTo, after) < 0;
      const entries = behind ? [] : await this.store.range(after, upTo);
      if (entries === null) return 'gap';
      for (const e of entries) {
        while (v + 1 < versions.length && comparePositions(versions[v + 1]![1], e.id) < 0) v++;
        const before = after;
        after = e.id;
        if (e.room !== null && !versions[v]![2].includes(e.room)) continue;
        if (e.except !== undefined && e.except.includes(id)) continue;
        if (skip > 0) skip--;
        else replay.push({ before, packet: e });
      }
      if (!behind && comparePositions(upTo, after) > 0) after = upTo;
      if (replay.length > maxReplay) return 'gap';
      if (!behind && skip === 0 && this.store.cursor === upTo) return replay;
      // This process has not read as far as the client got yet: wait for it, a while.
      if (Date.now() - start > CATCH_UP_MS) return 'gap';
      if (this.store.cursor === upTo) await sleep(20);
    }
  }

  /** Replays one logged message to `link`, with the marker it needs. */
  replay(link: Link, before: string, packet: LoggedPacket): void {
    this.before = before;
    try {
      link.write(packet.message);
    } finally {
      this.before = null;
    }
  }

  /** Every quarter window: markers refresh idle clients' positions, and the held states their expiry. */
  private tick(): void {
    const keys: string[] = [];
    const cursor = this.store.cursor;
    for (const link of this.links) {
      const log = link.log;
      if (link.key === '' || log === null) continue;
      // What the client sent since the last save: fewer messages to send again after a move.
      if (log.saved !== link.received) this.save(link, false);
      else keys.push(link.key);
      if (link.carrier === null || link.pending || cursor === '') continue;
      link.tell({ t: 'p', s: cursor, g: log.g });
      // The client may or may not get it: the next message says again where it stands.
      log.counting = null;
    }
    if (keys.length > 0) this.store.touch(keys);
  }

  close(): Promise<void> {
    clearInterval(this.timer);
    clearInterval(this.ackTimer);
    return this.store.close();
  }
}

function matches(given: Buffer, state: StoredLink): boolean {
  if (given.length !== 32) return false;
  const h = Buffer.from(hashSecret(given), 'base64url');
  const current = Buffer.from(state.h, 'base64url');
  const previous = state.p !== null ? Buffer.from(state.p, 'base64url') : null;
  // Both compared, always (as recovery.ts does for local credentials).
  const a = current.length === h.length && timingSafeEqual(h, current);
  const b = previous !== null && previous.length === h.length && timingSafeEqual(h, previous);
  return a || b;
}

export type { Takeover, Refusal };
