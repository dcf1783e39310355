/**
 * The common websocket payload `["<text>"]` (one message, nothing escaped), read straight from the
 * received bytes: one decode, where JSON.parse would decode the payload, scan it, copy the text out
 * and build an array.
 */

// Up to this size a payload is scanned here byte by byte; longer ones by native searches and a
// scan four bytes at a time (see plainLong).
const SCAN_MAX = 256;

/**
 * The message of a payload that is exactly `["<text>"]`, text without `"`, `\` or control
 * characters (up to SCAN_MAX bytes `\"` is allowed), or null: decoded once, where JSON.parse
 * would decode, copy, and build an array.
 * `ws` has checked the UTF-8 of text frames, so any other byte is part of a valid character.
 */
export function plainSingle(data: Buffer): string | null {
  const n = data.length;
  if (n < 4 || data[0] !== 0x5b || data[1] !== 0x22 || data[n - 2] !== 0x22 || data[n - 1] !== 0x5d) return null;
  if (n > SCAN_MAX) return plainLong(data, n);
  // A short message may quote `"` as `\"` (an application's own JSON): every other escape, or a
  // bare `"`, leaves the payload to JSON.parse.
  let escaped = false;
  for (let i = 2; i < n - 2; i++) {
    const c = data[i]!;
    if (c < 0x20 || c === 0x22) return null;
    if (c === 0x5c) {
      // The last `"` is the closing one: escaped, the string would not end.
      if (data[i + 1] !== 0x22 || i + 1 === n - 2) return null;
      escaped = true;
      i++;
    }
  }
  const text = data.toString('utf8', 2, n - 2);
  // Every `\` in it starts a `\"` (UTF-8 never has these bytes inside a character), so quoted it
  // is a JSON string; V8's JSON.parse unescapes it in a quarter of replaceAll's time.
  return escaped ? (JSON.parse('"' + text + '"') as string) : text;
}

// For 4 KB, a third less CPU than decoding the whole payload and JSON.parse (which scans, then
// copies the text out of it): the text is decoded once, straight from the bytes.
function plainLong(data: Buffer, n: number): string | null {
  if (data.indexOf(0x22, 2) !== n - 2 || data.indexOf(0x5c, 2) !== -1 || hasControlByte(data, 2, n - 2)) return null;
  return data.toString('utf8', 2, n - 2);
}

/** Whether a byte in data[from, to) is below 0x20. */
export function hasControlByte(data: Buffer, from: number, to: number): boolean {
  let i = from;
  // Byte by byte up to a 4-byte boundary in memory: a typed array view must start on one.
  while (i < to && ((data.byteOffset + i) & 3) !== 0) if (data[i++]! < 0x20) return true;
  const words = (to - i) >>> 2;
  if (words > 0) {
    const w32 = new Int32Array(data.buffer, data.byteOffset + i, words);
    // (w - 0x20202020) & ~w has a byte's top bit set when that byte, or one below it in the
    // word, is under 0x20: exact as to whether any is (the word test for a zero byte, shifted).
    // Four words a turn: a quarter less time per 4 KB than one (loop overhead, not the test).
    let acc = 0;
    let k = 0;
    for (; k + 4 <= words; k += 4) {
      const w0 = w32[k]!;
      const w1 = w32[k + 1]!;
      const w2 = w32[k + 2]!;
      const w3 = w32[k + 3]!;
      acc |= ((w0 - 0x20202020) & ~w0) | ((w1 - 0x20202020) & ~w1) | ((w2 - 0x20202020) & ~w2) | ((w3 - 0x20202020) & ~w3);
    }
    for (; k < words; k++) {
      const w = w32[k]!;
      acc |= (w - 0x20202020) & ~w;
    }
    if ((acc & 0x80808080) !== 0) return true;
    i += words << 2;
  }
  while (i < to) if (data[i++]! < 0x20) return true;
  return false;
}
