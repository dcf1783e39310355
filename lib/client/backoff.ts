/** Reconnection delays: exponential growth, capped, with full jitter (a random delay from 0 to the cap of the attempt). */
export interface BackoffOptions {
  /** The cap of the first attempt, in ms. Default 500. */
  initialDelay?: number;
  /** The largest cap, in ms. Default 30 000. */
  maxDelay?: number;
  /** How much the cap grows with each attempt. Default 2. */
  factor?: number;
  /** A connection that stayed up this long (ms) resets the attempts. Default 10 000. */
  stableAfter?: number;
  /** Give up (final 'close', code 4900) after this many failed attempts in a row. Default: never. */
  maxAttempts?: number;
}

export function resolveBackoff(o: BackoffOptions | undefined): Required<BackoffOptions> {
  const pick = (v: number | undefined, def: number, min: number): number => {
    if (v === undefined) return def;
    if (typeof v !== 'number' || Number.isNaN(v) || v < min) throw new TypeError(`sockjs-express/client: reconnect option must be a number ≥ ${min} (got ${String(v)})`);
    return v;
  };
  return {
    initialDelay: pick(o?.initialDelay, 500, 0),
    maxDelay: pick(o?.maxDelay, 30_000, 0),
    factor: pick(o?.factor, 2, 1),
    stableAfter: pick(o?.stableAfter, 10_000, 0),
    maxAttempts: pick(o?.maxAttempts, Infinity, 1),
  };
}

/** The delay before attempt `attempt` (0 for the first retry). */
export function backoffDelay(o: Required<BackoffOptions>, attempt: number, random: () => number = Math.random): number {
  const cap = Math.min(o.maxDelay, o.initialDelay * Math.pow(o.factor, attempt));
  return Math.floor(random() * cap);
}

/** The attempts in a row of one client, and the delay before each; a session that lasted `stableAfter` starts them again. */
export class Attempts {
  private made = 0;
  private openedAt = 0;

  constructor(readonly options: Required<BackoffOptions>) {}

  /** A session opened. */
  opened(): void {
    this.openedAt = Date.now();
  }

  /** The next attempt's number (from 1) and delay, after a session ended; null once `maxAttempts` are used up. */
  next(): { attempt: number; delay: number } | null {
    if (this.openedAt !== 0 && Date.now() - this.openedAt >= this.options.stableAfter) this.made = 0;
    this.openedAt = 0;
    if (this.made >= this.options.maxAttempts) return null;
    const delay = backoffDelay(this.options, this.made++);
    return { attempt: this.made, delay };
  }
}
