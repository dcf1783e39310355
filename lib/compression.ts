/**
 * The `compression` option: permessage-deflate (RFC 7692) on websockets, through `ws`. Off by
 * default: each compressed socket holds zlib state of its own, and every message costs CPU.
 */
import type { PerMessageDeflateOptions } from 'ws';

/** Tuning of permessage-deflate; every field is optional. */
export interface CompressionOptions {
  /** Messages (frames) of fewer bytes than this go out uncompressed. Default 1024. */
  threshold?: number;
  /** zlib compression level, 0 (none) to 9 (smallest). Default 6 (zlib's default). */
  level?: number;
  /** zlib memory level, 1 to 9: more memory, faster and better compression. Default 8. */
  mem_level?: number;
  /**
   * Largest LZ77 window (2^bits bytes) the server compresses with, 8 to 15: less memory per
   * socket, larger frames. Default: 15, or what the client asks for. A client that asks for a
   * smaller window than this gets no websocket (ws refuses its offer with 400).
   */
  server_max_window_bits?: number;
  /** Compress each message on its own (no shared history): larger frames; `ws` resets the zlib stream after each message but keeps it, so no memory is saved. Default false. */
  server_no_context_takeover?: boolean;
  /** Ask clients to do the same. Default false. */
  client_no_context_takeover?: boolean;
  /** zlib jobs run at once per process (ws's concurrencyLimit). Default 10. */
  concurrency_limit?: number;
}

/** The `compression` option resolved: null when off. */
export type ResolvedCompression = Readonly<Required<Omit<CompressionOptions, 'server_max_window_bits'>> & { server_max_window_bits: number | null }> | null;

type Fail = (name: string, allowed: string, value: unknown) => never;

const FIELDS = new Set([
  'threshold', 'level', 'mem_level', 'server_max_window_bits', 'server_no_context_takeover', 'client_no_context_takeover', 'concurrency_limit',
]);

function int(o: Record<string, unknown>, key: string, def: number, min: number, max: number, fail: Fail): number {
  const v = o[key];
  if (v === undefined) return def;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) fail('compression.' + key, `an integer from ${min} to ${max}`, v);
  return v;
}

function flag(o: Record<string, unknown>, key: string, fail: Fail): boolean {
  const v = o[key];
  if (v === undefined) return false;
  if (typeof v !== 'boolean') fail('compression.' + key, 'true or false', v);
  return v;
}

/** Validates `compression` (true, false, or CompressionOptions); `fail` throws the options' TypeError. */
export function resolveCompression(value: unknown, fail: Fail): ResolvedCompression {
  if (value === undefined || value === false) return null;
  const o: Record<string, unknown> = value === true ? {} : (value as Record<string, unknown>);
  if (value !== true && (value === null || typeof value !== 'object' || Array.isArray(value))) {
    fail('compression', 'true, false or an object of permessage-deflate settings', value);
  }
  for (const key of Object.keys(o)) {
    if (!FIELDS.has(key)) fail('compression', `an object with only ${[...FIELDS].join(', ')}`, key);
  }
  return {
    threshold: int(o, 'threshold', 1024, 0, 2 ** 31 - 1, fail),
    level: int(o, 'level', 6, 0, 9, fail),
    mem_level: int(o, 'mem_level', 8, 1, 9, fail),
    server_max_window_bits: o.server_max_window_bits === undefined ? null : int(o, 'server_max_window_bits', 15, 8, 15, fail),
    server_no_context_takeover: flag(o, 'server_no_context_takeover', fail),
    client_no_context_takeover: flag(o, 'client_no_context_takeover', fail),
    concurrency_limit: int(o, 'concurrency_limit', 10, 1, 1024, fail),
  };
}

/**
 * `ws`'s perMessageDeflate setting. Its threshold is left at 0: ws applies its own only with
 * server_no_context_takeover, so the receiver applies ours to every frame (websocket.ts). Settings
 * left at their defaults are left out: ws refuses a client's offer that conflicts with a setting
 * given (a client asking for server_no_context_takeover when it is false), and the handshake.
 */
export function wsDeflateOptions(c: ResolvedCompression): PerMessageDeflateOptions | false {
  if (c === null) return false;
  const o: PerMessageDeflateOptions = {
    threshold: 0,
    zlibDeflateOptions: { level: c.level, memLevel: c.mem_level },
    concurrencyLimit: c.concurrency_limit,
  };
  if (c.server_max_window_bits !== null) o.serverMaxWindowBits = c.server_max_window_bits;
  if (c.server_no_context_takeover) o.serverNoContextTakeover = true;
  if (c.client_no_context_takeover) o.clientNoContextTakeover = true;
  return o;
}
