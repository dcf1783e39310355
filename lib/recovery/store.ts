/**
 * What cross-process recovery needs from a shared store (docs/recovery.md, "Across processes"):
 * an ordered, bounded log of room and broadcast messages that every process reads in the same
 * order, and the state of each recoverable connection. `sockjs-express/redis` implements it over
 * a Redis Stream; the core only knows this interface, so it never imports a Redis client.
 */
import type { BroadcastPacket } from '../adapter.js';

/** A room or broadcast message as the log returns it: its position `id` ("ms-seq", as Redis Streams). */
export interface LoggedPacket extends BroadcastPacket {
  readonly id: string;
}

/** What a process receives from the log. */
export interface StoreHost {
  /** The next entry, in log order, this process's own included. */
  deliver(packet: BroadcastPacket, id: string): void;
  error(err: Error): void;
}

/** One rooms version of a connection: its number, the log position where it began, the rooms. */
export type RoomsVersion = [g: number, at: string, rooms: string[]];

/** A recoverable connection's state, as the store keeps it (never the plain secret). */
export interface StoredLink {
  /** The connection id. */
  id: string;
  /** SHA-256 of the current secret, base64url. */
  h: string;
  /** SHA-256 of the previous secret while it is still good (recovery.ts), or null. */
  p: string | null;
  /** The last rooms versions, oldest first. */
  r: RoomsVersion[];
  /** 1 once the application wrote a message directly to the connection (it may be lost on a move). */
  d: 0 | 1;
  /** Client messages delivered to the application when this was saved (a lower bound after a crash). */
  n: number;
}

export interface RecoveryStore {
  /** Starts reading the log; entries go to `host.deliver` in log order. */
  bind(host: StoreHost): void;
  /** The position of the last entry delivered, '' until the store knows it. */
  readonly cursor: string;
  /** Resolves once `cursor` is known (rejects if the store cannot start). */
  whenReady(): Promise<void>;
  /** Appends a room or broadcast message to the log. */
  publish(packet: BroadcastPacket): void;
  /** Keeps a connection's state for the window (`create`: a new key; otherwise only while the key exists). */
  save(key: string, state: StoredLink, create: boolean): void;
  /** The connection is gone for good. */
  drop(key: string): void;
  /** Renews the window of these keys (the connections this process holds). */
  touch(keys: Iterable<string>): void;
  /** A connection's state, or null. */
  load(key: string): Promise<StoredLink | null>;
  /** Takes the state for one resume: true for exactly one caller. */
  claim(key: string): Promise<boolean>;
  /** Entries after `after` up to `upTo` (inclusive), or null when some after `after` were trimmed. */
  range(after: string, upTo: string): Promise<LoggedPacket[] | null>;
  close(): Promise<void>;
}

/** Compares two log positions ("ms-seq"). */
export function comparePositions(a: string, b: string): number {
  const da = a.indexOf('-');
  const db = b.indexOf('-');
  const ma = a.slice(0, da === -1 ? a.length : da);
  const mb = b.slice(0, db === -1 ? b.length : db);
  if (ma.length !== mb.length) return ma.length - mb.length;
  if (ma !== mb) return ma < mb ? -1 : 1;
  const sa = da === -1 ? 0 : Number(a.slice(da + 1));
  const sb = db === -1 ? 0 : Number(b.slice(db + 1));
  return sa - sb;
}

/** Whether `s` looks like a log position. */
export function isPosition(s: unknown): s is string {
  return typeof s === 'string' && /^\d{1,20}-\d{1,20}$/.test(s);
}
