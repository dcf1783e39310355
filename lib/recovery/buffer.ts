/**
 * A connection's replay buffer: the quoted messages it wrote that the client has not confirmed,
 * bounded in messages and characters. It holds the very strings the session queues (a room send
 * shares one string across all its members), so buffering costs a slot, not a copy.
 */
export class ReplayBuffer {
  private items: string[] = [];
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

  push(quoted: string): void {
    this.items.push(quoted);
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

  /** The messages from count `from` on, oldest first (`holds(from)` must be true). */
  since(from: number): string[] {
    return this.items.slice(this.head + (from - this.first));
  }

  private dropOne(): void {
    this.chars -= this.items[this.head]!.length;
    // Left for the collector; the array is compacted once half of it is spent.
    this.items[this.head++] = '';
    if (this.head >= 64 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}
