/**
 * A connection's replay buffer: the quoted messages it wrote that the client has not confirmed,
 * bounded in messages and characters. It holds the very strings the session queues (a room send
 * shares one string across all its members), so buffering costs a slot, not a copy.
 *
 * The slots are a ring whose size is a power of two: it only grows, until the buffer is emptied
 * (an idle connection then keeps no storage). A busy connection writes into the same slots
 * again and again: an array that was sliced and grown anew on every acknowledgement cost the
 * chat fan-out more than anything else recovery does per delivery (docs/performance.md).
 */
const NO_SLOTS: string[] = [];

export class ReplayBuffer {
  private items: string[] = NO_SLOTS;
  /**
   * With cross-process recovery: the position marker (quoted control message) that went just
   * before each item, or '' (lib/recovery/remote.ts), in the same slots. Null otherwise.
   */
  private marks: string[] | null = null;
  /** The slot of the oldest message held. */
  private head = 0;
  /** Messages held. */
  private size = 0;
  /** Messages written over the connection's life (the count of the next one, from 0). */
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

  /** Keeps markers from now on (a client that speaks cross-process recovery). */
  withMarks(): void {
    this.marks ??= new Array<string>(this.items.length).fill('');
  }

  /** A connection resumed on another process: the client had `written` messages already. */
  startAt(written: number): void {
    this.written = written;
  }

  push(quoted: string, mark = ''): void {
    if (this.size === this.items.length) this.grow();
    const slot = (this.head + this.size) & (this.items.length - 1);
    this.items[slot] = quoted;
    if (this.marks !== null) this.marks[slot] = mark;
    this.size++;
    this.written++;
    this.chars += quoted.length;
    if (this.size > this.maxMessages || this.chars > this.maxChars) this.trim();
  }

  /** Whether every message from count `from` on is still held. */
  holds(from: number): boolean {
    return from >= this.first && from <= this.written;
  }

  /** The client confirmed the first `count` messages: they need not be kept. */
  confirm(count: number): void {
    let n = Math.min(count, this.written) - this.first;
    while (n-- > 0) this.dropOne();
  }

  /** The messages from count `from` on, oldest first, each after its marker if any (`holds(from)` must be true). */
  since(from: number): string[] {
    const out: string[] = [];
    const mask = this.items.length - 1;
    for (let k = from - this.first; k < this.size; k++) {
      const slot = (this.head + k) & mask;
      const mark = this.marks !== null ? this.marks[slot]! : '';
      if (mark !== '') out.push(mark);
      out.push(this.items[slot]!);
    }
    return out;
  }

  /** Over a limit: the oldest messages go (the newest one stays, whatever its size). */
  private trim(): void {
    while (this.size > this.maxMessages || (this.chars > this.maxChars && this.size > 1)) this.dropOne();
  }

  private grow(): void {
    const size = Math.max(16, this.items.length * 2);
    this.items = this.unrolled(this.items, size);
    if (this.marks !== null) this.marks = this.unrolled(this.marks, size);
    this.head = 0;
  }

  /** `ring`'s messages, oldest first, at the start of `size` new slots. */
  private unrolled(ring: readonly string[], size: number): string[] {
    const out = new Array<string>(size).fill('');
    const mask = ring.length - 1;
    for (let k = 0; k < this.size; k++) out[k] = ring[(this.head + k) & mask]!;
    return out;
  }

  private dropOne(): void {
    const slot = this.head;
    this.chars -= this.items[slot]!.length;
    this.items[slot] = '';
    if (this.marks !== null) this.marks[slot] = '';
    this.head = (slot + 1) & (this.items.length - 1);
    if (--this.size === 0) {
      this.items = NO_SLOTS;
      if (this.marks !== null) this.marks = NO_SLOTS;
      this.head = 0;
    }
  }
}
