/** The `recovery` option: its limits, their defaults and validation (named as the user wrote them). */

/** The limits of `recovery` (docs/recovery.md). */
export interface RecoveryOptions {
  /** How long a disconnected connection is kept for its client to resume, in ms. Default 120 000. */
  window_ms?: number;
  /** Unconfirmed messages kept per connection for replay. Default 1 000. */
  max_messages?: number;
  /** Unconfirmed characters (bytes for ASCII) kept per connection for replay. Default 1 MiB. */
  max_bytes?: number;
  /**
   * Disconnected connections kept waiting for their client at once (they do not count toward
   * `max_sessions`); one more ends the one parked longest. Default 10 000.
   */
  max_parked?: number;
}

export function resolveRecovery(
  v: unknown,
  fail: (name: string, allowed: string, value: unknown) => never,
  positiveInt: (o: Record<string, unknown>, name: string, def: number) => number,
): Required<RecoveryOptions> | null {
  if (v === undefined || v === false) return null;
  if (v !== true && (v === null || typeof v !== 'object' || Array.isArray(v))) {
    fail('recovery', 'true, false or an object { window_ms, max_messages, max_bytes, max_parked }', v);
  }
  const r = (v === true ? {} : v) as Record<string, unknown>;
  for (const key of Object.keys(r)) {
    if (key !== 'window_ms' && key !== 'max_messages' && key !== 'max_bytes' && key !== 'max_parked') {
      throw new TypeError(`sockjs-express: unknown option "recovery.${key}"; known are window_ms, max_messages, max_bytes, max_parked`);
    }
  }
  const sub = (name: string, def: number): number => positiveInt(r, name, def);
  try {
    return { window_ms: sub('window_ms', 120_000), max_messages: sub('max_messages', 1_000), max_bytes: sub('max_bytes', 1024 * 1024),
      max_parked: sub('max_parked', 10_000) };
  } catch (err) {
    // Name the option as the user wrote it.
    throw new TypeError((err as Error).message.replace('option "', 'option "recovery.'));
  }
}
