/**
 * What a test client received and has not read yet: `next()` takes the oldest item, or waits for
 * the next one. A wait that times out leaves the queue, so it never swallows a later item.
 */
export class Inbox<T> {
  private items: T[] = [];
  private waiters: ((item: T) => void)[] = [];

  /** What arrived and was not read yet. */
  unread(): readonly T[] {
    return this.items;
  }

  push(item: T): void {
    const w = this.waiters.shift();
    if (w !== undefined) w(item);
    else this.items.push(item);
  }

  /** The oldest unread item; rejects with `timeoutError()` after `ms`. */
  next(ms: number, timeoutError: () => Error): Promise<T> {
    if (this.items.length > 0) return Promise.resolve(this.items.shift()!);
    return new Promise((resolve, reject) => {
      const waiter = (item: T): void => {
        clearTimeout(t);
        resolve(item);
      };
      const t = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(timeoutError());
      }, ms);
      this.waiters.push(waiter);
    });
  }
}
