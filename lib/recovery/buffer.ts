/**
 * A connection's replay buffer: what its sessions sent that the client has not confirmed, bounded
 * in messages and characters. It is filled when a session flushes, one entry per frame: the very
 * list of quoted messages the frame was built from, with their count and characters. The members
 * of a room who flush the same run of room messages share one entry (SharedFrame.messageList), so a room
 * send stores nothing per member, and a member stores one slot per frame. Entries hold
 * application messages and, before some, the position markers of cross-process recovery
 * (lib/recovery/remote.ts), which a replay re-sends where they were; other control messages are
 * left out.
 *
 * The slots are a ring whose size is a power of two: it only grows, until the buffer is emptied
 * (an idle connection then keeps no storage; a busy one starts again at the size it had).
 */
import { MessageList, SharedFrame } from '../protocol/shared-frame.js';
import { isQuotedControl, isQuotedMarker } from './wire.js';

const NO_RING: MessageList[] = [];

/** The application messages in what a session has queued (its control messages are not counted). */
export function appMessages(what: SharedFrame | readonly string[] | null): number {
  if (what instanceof SharedFrame) return what.count;
  let n = 0;
  if (what !== null) for (const q of what) if (!isQuotedControl(q)) n++;
  return n;
}
/** What a slot holds once its entry is gone. */
const NONE = new MessageList([], 0, 0);

export class ReplayBuffer {
  private ring: MessageList[] = NO_RING;
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
  keepFrame(what: SharedFrame | readonly string[] | null): void {
    if (what instanceof SharedFrame) this.add(what.messageList);
    else if (what !== null) this.keep(what);
  }

  /**
   * Quoted messages that went out (or are kept for a client that is away), in one frame; `list`
   * is not changed afterwards. Control messages other than markers are left out.
   */
  keep(list: readonly string[]): void {
    let apps = 0;
    let chars = 0;
    let others = 0;
    for (const q of list) {
      if (!isQuotedControl(q)) {
        apps++;
        chars += q.length;
      } else if (!isQuotedMarker(q)) others++;
    }
    if (apps === 0) return;
    if (others > 0) list = list.filter((q) => !isQuotedControl(q) || isQuotedMarker(q));
    this.add(new MessageList(list, apps, chars));
  }

  /** One entry (`entry.messages` not changed afterwards). */
  add(entry: MessageList): void {
    if (this.count === this.slots) this.grow();
    this.ring[(this.head + this.count) & (this.slots - 1)] = entry;
    this.count++;
    this.size += entry.count;
    this.written += entry.count;
    this.chars += entry.chars;
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
      if (this.headPos === 0 && this.first + this.ring[this.head]!.count <= upTo) this.dropEntry();
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
    for (let k = this.count - 1; k > cut.entry; k--) this.ring[(this.head + k) & mask] = NONE;
    this.count = cut.entry + 1;
    const slot = (this.head + cut.entry) & mask;
    if (cut.pos === (cut.entry === 0 ? this.headPos : 0)) {
      this.ring[slot] = NONE;
      this.count--;
    } else {
      const kept = this.ring[slot]!.messages.slice(0, cut.pos);
      let apps = 0;
      let chars = 0;
      for (const q of kept) {
        if (isQuotedControl(q)) continue;
        apps++;
        chars += q.length;
      }
      this.ring[slot] = new MessageList(kept, apps, chars);
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
      const list = this.ring[(this.head + k) & mask]!.messages;
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
    const ring = new Array<MessageList>(slots).fill(NONE);
    const mask = this.slots - 1;
    for (let k = 0; k < this.count; k++) ring[k] = this.ring[(this.head + k) & mask]!;
    this.ring = ring;
    this.slots = slots;
    this.head = 0;
  }

  /** The oldest message held goes, with the markers before it. */
  private dropOne(): void {
    const list = this.ring[this.head]!.messages;
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
      const entry = this.ring[slot]!;
      this.size -= entry.count;
      this.chars -= entry.chars;
    }
    this.ring[slot] = NONE;
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
