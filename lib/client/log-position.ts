import { count } from '../recovery/wire.js';

/**
 * Where the companion client stands in the server's shared log (wire format version 2, recovery
 * across processes): every room/broadcast message up to entry `s` with rooms version `g`, then
 * `k` more while counting. A direct write (`d`) stops the count until the next marker (`p`).
 */
export class LogPosition {
  private pos: string | null = null;
  private roomsVersion = 0;
  private logged = 0;
  private counting = false;

  /** A marker `p` (or a welcome's `s`, `g`); anything malformed is ignored. */
  mark(s: unknown, g: unknown): void {
    const v = count(g);
    if (typeof s !== 'string' || v === undefined) return;
    this.pos = s;
    this.roomsVersion = v;
    this.logged = 0;
    this.counting = true;
  }

  /** An application message arrived. */
  got(): void {
    if (this.counting) this.logged++;
  }

  /** A direct write follows (`d`): not in the log, so not counted. */
  direct(): void {
    this.counting = false;
  }

  /** A new connection on the server: no position until it gives one. */
  reset(s: unknown, g: unknown): void {
    this.pos = null;
    this.counting = false;
    this.mark(s, g);
  }

  /** The hello's log fields, or null before any marker. */
  hello(): { s: string; g: number; k: number } | null {
    return this.pos === null ? null : { s: this.pos, g: this.roomsVersion, k: this.logged };
  }
}
