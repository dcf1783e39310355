/** One pending timeout that a new one replaces (the client's per-attempt timers). */
export class Timeout {
  private handle: ReturnType<typeof setTimeout> | null = null;

  /** Runs `fn` in `ms` ms, instead of whatever was pending. */
  set(fn: () => void, ms: number): void {
    this.clear();
    this.handle = setTimeout(fn, ms);
  }

  clear(): void {
    if (this.handle !== null) clearTimeout(this.handle);
    this.handle = null;
  }
}
