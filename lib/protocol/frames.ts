/**
 * SockJS frames, as the server sends them (sockjs-protocol 0.3.3):
 *   o            open
 *   h            heartbeat
 *   a[...]       array of JSON-quoted messages
 *   c[code,"r"]  close
 * Every transport wraps these strings in its own envelope (see transports/*).
 */

export const OPEN_FRAME = 'o';
export const HEARTBEAT_FRAME = 'h';

// Characters that some browsers or proxies mangle inside JSON strings: JSON.stringify leaves them
// raw, so they are sent as \u escapes (four hex digits). The set is the protocol suite's "escapable_by_server"
// plus lone surrogates (which well-formed JSON.stringify already escapes).
const UNSAFE = /[\u200c-\u200f\u2028-\u202f\u2060-\u206f\ufff0-\uffff]/;
const UNSAFE_ALL = /[\u200c-\u200f\u2028-\u202f\u2060-\u206f\ufff0-\uffff]/g;

function unicodeEscape(ch: string): string {
  return '\\u' + ch.charCodeAt(0).toString(16).padStart(4, '0');
}

// Below this length JSON.stringify is as cheap as the checks that could skip it.
const PLAIN_MIN = 256;

/** `String.prototype.isWellFormed` (Node 20+), missing from the ES2022 lib typings. */
interface WellFormedString {
  isWellFormed(): boolean;
}

/**
 * The JSON quoting of a long message that needs no escape at all, or null. JSON.stringify walks
 * a string several times slower than JSON.parse scans one (about 2 ns against 0.4 ns a character
 * for 4 KB here), so text without `"` or `\` (two native searches) is checked by parsing its
 * quoted form instead: that fails only on control characters. Lone surrogates (which JSON.stringify
 * escapes) and SockJS's extra characters send it back to the slow path.
 */
function plainQuote(message: string): string | null {
  if (message.indexOf('"') !== -1 || message.indexOf('\\') !== -1) return null;
  const quoted = '"' + message + '"';
  try {
    JSON.parse(quoted);
  } catch {
    return null;
  }
  if (!(message as string & WellFormedString).isWellFormed() || UNSAFE.test(message)) return null;
  return quoted;
}

/** JSON-quotes one message the SockJS way. Call once per message and reuse the result. */
export function quote(message: string): string {
  if (message.length >= PLAIN_MIN) {
    const plain = plainQuote(message);
    if (plain !== null) return plain;
  }
  const json = JSON.stringify(message);
  // The regex test is a native scan; most messages need no rewrite and pay only for it.
  return UNSAFE.test(json) ? json.replace(UNSAFE_ALL, unicodeEscape) : json;
}

/** `a[...]` from messages that are already quoted. */
export function arrayFrame(quoted: readonly string[]): string {
  return quoted.length === 1 ? 'a[' + quoted[0] + ']' : 'a[' + quoted.join(',') + ']';
}

export function closeFrame(code: number, reason: string): string {
  return 'c[' + code + ',' + quote(reason) + ']';
}

/** Close codes the server itself uses in close frames. */
export const CloseCode = {
  GO_AWAY: 3000,
  ANOTHER_CONNECTION: 2010,
  INTERRUPTED: 1002,
} as const;

export const ANOTHER_CONNECTION_FRAME = closeFrame(CloseCode.ANOTHER_CONNECTION, 'Another connection still open');
export const INTERRUPTED_FRAME = closeFrame(CloseCode.INTERRUPTED, 'Connection interrupted');
