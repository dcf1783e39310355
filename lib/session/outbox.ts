/**
 * A session's outgoing messages between two flushes, and the accounting behind backpressure:
 * what is queued here plus what the receiver's socket still holds, against the high-water mark
 * (write() returns false, 'drain' is owed) and max_buffered_bytes (the session is dropped).
 */
import { arrayFrame } from '../protocol/frames.js';
import type { SharedFrame } from '../protocol/shared-frame.js';
import type { Receiver } from './types.js';

/** How full the buffers are after a write. */
export const enum Level {
  /** Under the high-water mark. */
  Under,
  /** Over it: write() returns false and 'drain' is owed. */
  Over,
  /** Over max_buffered_bytes: the client stopped reading. */
  Full,
}

/** The buffer limits a service sets for its sessions (SessionHost). */
export interface BufferLimits {
  /** Buffered bytes above which write() returns false. */
  readonly highWaterMark: number;
  /** Buffered bytes above which the session is closed with 3100. */
  readonly maxBuffered: number;
}

export class Outbox {
  /** Quoted messages; null while empty (most sessions, most of the time). */
  private queue: string[] | null = null;
  /** Instead of `queue`: messages that other sessions send in this round too (see SharedFrame). */
  private shared: SharedFrame | null = null;
  /** Characters queued (bytes for ASCII text; UTF-16 units otherwise). */
  queued = 0;
  /** The receiver's socket buffer as last seen (after a flush), so write() need not ask it. */
  socketBuffered = 0;
  /**
   * write() returned false; 'drain' is owed once the buffers fall below the high-water mark.
   * While it is set, receivers write with a completion callback that calls drainCheck(): the
   * only signal that also works when the socket's own buffer never passed its high-water mark.
   */
  needDrain = false;

  /** The service's limits (one reference, not two numbers per session). */
  constructor(private readonly limits: BufferLimits) {}

  /** Messages of this session's own are queued, not only messages shared with other sessions. */
  get ownQueued(): boolean {
    return this.queue !== null;
  }

  get empty(): boolean {
    return this.queue === null && this.shared === null;
  }

  push(quoted: string): void {
    if (this.shared !== null) {
      // A message of this session's own: the shared run becomes its own queue.
      this.queue = this.shared.messages();
      this.shared = null;
    }
    if (this.queue === null) this.queue = [quoted];
    else this.queue.push(quoted);
    this.queued += quoted.length;
  }

  /** `message` (one quoted message) is sent to other sessions in this round too. */
  pushShared(message: SharedFrame): void {
    if (this.queue !== null) {
      this.push(message.quoted);
      return;
    }
    const run = this.shared === null ? message : this.shared.then(message);
    this.queued += run.size - (this.shared === null ? 0 : this.shared.size);
    this.shared = run;
  }

  /**
   * Hands everything queued to `recv` as one frame; returns how many messages went, negated when
   * the receiver takes no more frames (0: nothing was queued).
   */
  sendTo(recv: Receiver): number {
    const queue = this.queue;
    const shared = this.shared;
    this.queue = null;
    this.shared = null;
    this.queued = 0;
    let count: number;
    let more: boolean;
    if (queue !== null) {
      count = queue.length;
      more = recv.sendFrame(arrayFrame(queue));
    } else if (shared !== null) {
      count = shared.count;
      more = recv.sendFrame(shared.frame, shared);
    } else {
      return 0;
    }
    this.socketBuffered = more ? recv.bufferedAmount : 0;
    return more ? count : -count;
  }

  /** What is waiting: a run shared with other sessions, or this session's own quoted messages; null when none. */
  contents(): SharedFrame | readonly string[] | null {
    return this.queue ?? this.shared;
  }

  /** Puts `quoted` before everything waiting (a recovery checkpoint). */
  prepend(quoted: string): void {
    const rest = this.queue ?? this.shared?.messages() ?? null;
    this.shared = null;
    this.queue = rest === null ? [quoted] : [quoted, ...rest];
    this.queued += quoted.length;
  }

  clear(): void {
    this.queue = null;
    this.shared = null;
    this.queued = 0;
    this.socketBuffered = 0;
    this.needDrain = false;
  }

  /**
   * Whether writing `units` UTF-16 units now may leave the buffers over the high-water mark (at
   * most 3 bytes a unit). Decided before a write that goes out at once, so that such a write
   * carries the completion callback: with no write after it, that is what brings 'drain'.
   */
  mayGoOver(units: number): boolean {
    return this.socketBuffered + units * 3 > this.limits.highWaterMark;
  }

  /** Where the buffers stand; over the high-water mark, a 'drain' is owed. */
  level(): Level {
    const total = this.queued + this.socketBuffered;
    if (total <= this.limits.highWaterMark) return Level.Under;
    this.needDrain = true;
    return total > this.limits.maxBuffered ? Level.Full : Level.Over;
  }

  /** The socket drained to `socketBuffered`: true when a 'drain' owed is now due. */
  drained(socketBuffered: number): boolean {
    this.socketBuffered = socketBuffered;
    if (!this.needDrain || this.queued + socketBuffered > this.limits.highWaterMark) return false;
    this.needDrain = false;
    return true;
  }
}
