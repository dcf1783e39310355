/**
 * What the companion client has to send, counted the way the server counts what it delivered:
 * messages stay until the server confirms them, so a resume can send the unconfirmed ones again
 * (docs/recovery.md). Counts start at 0 with each new connection on the server.
 */
export class SendQueue {
  /** Sent and unconfirmed, then (from `sentUpTo`) not yet sent. */
  private items: string[] = [];
  /** The count of items[0]. */
  private base = 0;
  /** The count of the first message not yet sent. */
  private sentUpTo = 0;

  /** How many messages the server has confirmed. */
  get confirmedCount(): number {
    return this.base;
  }

  /** How many messages were sent (confirmed or not). */
  get sentCount(): number {
    return this.sentUpTo;
  }

  /** Sent and not yet confirmed. */
  unconfirmed(): string[] {
    return this.items.slice(0, this.sentUpTo - this.base);
  }

  /** Takes `message` unless `limit` messages are queued already. */
  push(message: string, limit: number): boolean {
    if (this.items.length >= limit) return false;
    this.items.push(message);
    return true;
  }

  /** The messages not sent yet, marked sent, and the count of the first; null when there are none. */
  takeUnsent(): { from: number; messages: string[] } | null {
    const skip = this.sentUpTo - this.base;
    if (skip >= this.items.length) return null;
    const from = this.sentUpTo;
    this.sentUpTo = this.base + this.items.length;
    return { from, messages: this.items.slice(skip) };
  }

  /** Everything queued, forgotten once handed over (a plain server confirms nothing). */
  takeAll(): string[] {
    const all = this.items;
    this.items = [];
    return all;
  }

  /** The server has the first `n` messages: the ones it has that were sent leave. */
  confirm(n: number | undefined): void {
    if (n === undefined || n <= this.base) return;
    const drop = Math.min(n, this.sentUpTo) - this.base;
    this.items.splice(0, drop);
    this.base += drop;
  }

  /** Resumed: what is still unconfirmed goes again. */
  rewind(): void {
    this.sentUpTo = this.base;
  }

  /** A new connection on the server: counting starts again; returns what was sent and never confirmed. */
  restart(): string[] {
    const unconfirmed = this.items.splice(0, this.sentUpTo - this.base);
    this.base = 0;
    this.sentUpTo = 0;
    return unconfirmed;
  }

  /** Runs `fn`; what it queues goes before what was queued already. */
  queueFirst(fn: () => void): void {
    const queued = this.items;
    this.items = [];
    fn();
    this.items = this.items.concat(queued);
  }
}
