/**
 * A connection's replay buffer: what its sessions sent that the client has not confirmed, bounded
 * in messages and characters. It is filled when a session flushes, one entry per frame: the very
 * list of quoted messages the frame was built from. The members of a room who flush the same run
 * of room messages share one list (SharedFrame.list), so a room send stores nothing per member,
 * and a member stores one slot per frame, not per message. Entries hold application messages
 * and, before some, the position markers of cross-process recovery (lib/recovery/remote.ts),
 * which a replay re-sends where they were; other control messages are left out.
 *
 * The slots are a ring whose size is a power of two: it only grows, until the buffer is emptied
 * (an idle connection then keeps no storage; a busy one starts again at the size it had).
 */
import { SharedFrame } from '../protocol/shared-frame.js';
import { isQuotedControl, isQuotedMarker } from './wire.js';

/** Per entry: its list, its application messages and their characters, side by side (one cache line to touch, not two arrays). */
type Ring = (readonly string[] | number)[];
const STRIDE = 3;
const NO_RING: Ring = [];
/** What a slot holds once its entry is gone. */
const NONE: readonly string[] = [];

export class ReplayBuffer {
  private ring: Ring = NO_RING;
  /** Entries the ring has room for (a power of two). */
  private slots = 0;
  /** The ring's size when it was last given back (it starts at that size again). */
  private reuse = 4;
  /** The slot of the oldest entry. */
  private head = 0;
  /** Entries held. */
  private count = 0;
  /** Where the oldest entry's first message still held is (earlier ones were confirmed or trimmed). */
  private headPos = 0;
  /** Application messages held. */
  private size = 0;
  /** Application messages sent over the connection's life (the count of the next one, from 0). */
  written = 0;
  /** Characters held. */
  chars = 0;

  constructor(
    private readonly maxMessages: number,
    private readonly maxChars: number,
  ) {}

  /** The count of the oldest message still held (what a resume may start from at the earliest). */
  get first(): number {
    return this.written - this.size;
  }

  /** A connection resumed on another process: the client had `written` messages already. */
  startAt(written: number): void {
    this.written = written;
  }

  /** What a session flushes now (or has not sent when it goes): a room's run, or its own queue. */
  keepFrame(what: SharedFrame | readonly string[]): void {
    if (what instanceof SharedFrame) this.keep(what.list, true, what.size - what.count + 1);
    else this.keep(what, false);
  }

  /**
   * One frame's messages went out (or are kept for a client that is away). `list` is not changed
   * afterwards; `plain` says it holds only application messages (a room's run), so it is kept as
   * it is without a look at each message; `chars`, their characters, when known.
   */
  keep(list: readonly string[], plain: boolean, chars = -1): void {
    let apps = list.length;
    if (!plain) {
      let others = 0;
      apps = 0;
      chars = 0;
      for (const q of list) {
        if (!isQuotedControl(q)) {
          apps++;
          chars += q.length;
        } else if (!isQuotedMarker(q)) others++;
      }
      if (apps === 0) return;
      if (others > 0) list = list.filter((q) => !isQuotedControl(q) || isQuotedMarker(q));
    } else if (chars < 0) {
      chars = 0;
      for (const q of list) chars += q.length;
    }
    if (this.count === this.slots) this.grow();
    const at = STRIDE * ((this.head + this.count) & (this.slots - 1));
    const ring = this.ring;
    ring[at] = list;
    ring[at + 1] = apps;
    ring[at + 2] = chars;
    this.count++;
    this.size += apps;
    this.written += apps;
    this.chars += chars;
    if (this.size > this.maxMessages || this.chars > this.maxChars) this.trim();
  }

  /** Whether every message from count `from` on is still held. */
  holds(from: number): boolean {
    return from >= this.first && from <= this.written;
  }

  /** The client confirmed the first `count` messages: they need not be kept. */
  confirm(count: number): void {
    const upTo = Math.min(count, this.written);
    if (upTo === this.written && this.size > 0) {
      // Everything: the ring goes at once, not entry by entry.
      this.size = 0;
      this.chars = 0;
      this.count = 0;
      this.empty();
      return;
    }
    while (this.first < upTo) {
      // Whole entries at once while they are all confirmed.
      if (this.headPos === 0 && this.first + this.apps(this.head) <= upTo) this.dropEntry();
      else this.dropOne();
    }
  }

  /** The messages from count `from` on, oldest first, each after its markers (`holds(from)` must be true). */
  since(from: number): string[] {
    const out: string[] = [];
    this.walk(from, out);
    return out;
  }

  /**
   * The same as since(), and they are no longer held: a resume sends them again, and they are
   * kept again as they go.
   */
  rewind(from: number): string[] {
    const out: string[] = [];
    const cut = this.walk(from, out);
    if (cut === null) return out;
    const mask = this.slots - 1;
    // Entries after the one the cut is in go whole; that one keeps what is before the cut.
    for (let k = this.count - 1; k > cut.entry; k--) this.ring[STRIDE * ((this.head + k) & mask)] = NONE;
    this.count = cut.entry + 1;
    const slot = (this.head + cut.entry) & mask;
    if (cut.pos === (cut.entry === 0 ? this.headPos : 0)) {
      this.ring[STRIDE * slot] = NONE;
      this.count--;
    } else {
      const kept = this.list(slot).slice(0, cut.pos);
      let apps = 0;
      let chars = 0;
      for (const q of kept) {
        if (isQuotedControl(q)) continue;
        apps++;
        chars += q.length;
      }
      this.ring[STRIDE * slot] = kept;
      this.ring[STRIDE * slot + 1] = apps;
      this.ring[STRIDE * slot + 2] = chars;
    }
    this.size -= this.written - from;
    this.written = from;
    this.chars -= cut.chars;
    if (this.count === 0) this.empty();
    return out;
  }

  /**
   * Puts the messages from count `from` on, with their markers, into `out`; returns where they
   * begin (entry, position in it) and their characters, or null when there are none.
   */
  private walk(from: number, out: string[]): { entry: number; pos: number; chars: number } | null {
    const mask = this.slots - 1;
    // The count of the next application message; a marker belongs to it.
    let next = this.first;
    let cut: { entry: number; pos: number; chars: number } | null = null;
    for (let k = 0; k < this.count; k++) {
      const list = this.list((this.head + k) & mask);
      for (let i = k === 0 ? this.headPos : 0; i < list.length; i++) {
        const q = list[i]!;
        const marker = isQuotedControl(q);
        if (next >= from) {
          cut ??= { entry: k, pos: i, chars: 0 };
          out.push(q);
          if (!marker) cut.chars += q.length;
        }
        if (!marker) next++;
      }
    }
    return cut;
  }

  /** Over a limit: the oldest messages go (the newest one stays, whatever its size). */
  private trim(): void {
    while (this.size > this.maxMessages || (this.chars > this.maxChars && this.size > 1)) this.dropOne();
  }

  private grow(): void {
    // A buffer emptied by a confirmation fills again as far as it did, most likely.
    const slots = this.slots === 0 ? this.reuse : this.slots * 2;
    this.reuse = slots;
    const ring: Ring = new Array<readonly string[] | number>(STRIDE * slots).fill(0);
    const mask = this.slots - 1;
    for (let k = 0; k < this.count; k++) {
      const from = STRIDE * ((this.head + k) & mask);
      for (let j = 0; j < STRIDE; j++) ring[STRIDE * k + j] = this.ring[from + j]!;
    }
    this.ring = ring;
    this.slots = slots;
    this.head = 0;
  }

  private list(slot: number): readonly string[] {
    return this.ring[STRIDE * slot] as readonly string[];
  }

  private apps(slot: number): number {
    return this.ring[STRIDE * slot + 1] as number;
  }

  /** The oldest message held goes, with the markers before it. */
  private dropOne(): void {
    const list = this.list(this.head);
    let i = this.headPos;
    while (isQuotedControl(list[i]!)) i++;
    this.chars -= list[i]!.length;
    this.size--;
    this.headPos = ++i;
    // Done with the entry when no application message is left in it.
    while (i < list.length && isQuotedControl(list[i]!)) i++;
    if (i === list.length) this.dropEntry();
  }

  /** The oldest entry goes: all of it, or (after dropOne) the markers left at its end. */
  private dropEntry(): void {
    const slot = this.head;
    if (this.headPos === 0) {
      this.size -= this.apps(slot);
      this.chars -= this.ring[STRIDE * slot + 2] as number;
    }
    this.ring[STRIDE * slot] = NONE;
    this.head = (slot + 1) & (this.slots - 1);
    this.headPos = 0;
    if (--this.count === 0) this.empty();
  }

  private empty(): void {
    this.ring = NO_RING;
    this.slots = 0;
    this.head = 0;
    this.headPos = 0;
  }
}
