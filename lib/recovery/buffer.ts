/**
 * A connection's replay buffer: the quoted messages it wrote that the client has not confirmed,
 * bounded in messages and characters. It holds the very strings the session queues (a room send
 * shares one string across all its members), so buffering costs a slot, not a copy.
 */
export class ReplayBuffer {
  private items: string[] = [];
  /**
   * With cross-process recovery: the position marker (quoted control message) that went just
   * before each item, or '' (lib/recovery/remote.ts). Null otherwise, and then never allocated.
   */
  private marks: string[] | null = null;
  private head = 0;
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
    return this.written - (this.items.length - this.head);
  }

  /** Keeps markers from now on (a client that speaks cross-process recovery). */
  withMarks(): void {
    this.marks ??= this.items.map(() => '');
  }

  /** A connection resumed on another process: the client had `written` messages already. */
  startAt(written: number): void {
    this.written = written;
  }

  push(quoted: string, mark = ''): void {
    this.items.push(quoted);
    this.marks?.push(mark);
    this.written++;
    this.chars += quoted.length;
    while (this.items.length - this.head > this.maxMessages || (this.chars > this.maxChars && this.items.length - this.head > 1)) {
      this.dropOne();
    }
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
    const start = this.head + (from - this.first);
    const marks = this.marks;
    if (marks === null) return this.items.slice(start);
    const out: string[] = [];
    for (let i = start; i < this.items.length; i++) {
      if (marks[i] !== '') out.push(marks[i]!);
      out.push(this.items[i]!);
    }
    return out;
  }

  private dropOne(): void {
    this.chars -= this.items[this.head]!.length;
    // Left for the collector; the array is compacted once half of it is spent, or all of it (an
    // idle connection then keeps no storage for messages it no longer holds).
    if (this.marks !== null) this.marks[this.head] = '';
    this.items[this.head++] = '';
    if (this.head === this.items.length || (this.head >= 64 && this.head * 2 >= this.items.length)) {
      this.items = this.items.slice(this.head);
      if (this.marks !== null) this.marks = this.marks.slice(this.head);
      this.head = 0;
    }
  }
}
