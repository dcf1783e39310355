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

// The message most recently decoded from a payload that was exactly `["<message>"]` (no escape,
// no space), and that payload when the decoder has it as a string. Echo and relay handlers write
// back the message they were just handed: its quoting is then `"<message>"` (a slice of the
// payload), known without a scan of its text.
let decodedMessage: string | null = null;
let decodedPayload: string | null = null;
// The decoder saw only ASCII, so none of SockJS's extra escapes can apply.
let decodedAscii = false;
// Its quoting, once asked for: the same string for every session a relay writes it to.
let decodedQuoted: string | null = null;
// The payload's bytes, when the decoder had them (websocket messages), and the frame queueFrame()
// built of its quoting alone: that frame's bytes are `a` + the payload's bytes.
let decodedBytes: Buffer | null = null;
let echoFrame: string | null = null;
// Only frames this long take the echo path: for shorter ones a comparison with a frame of equal
// length (a content comparison) would cost more than encoding.
const ECHO_MIN = 4096;

/**
 * For decoders: `payload` is exactly `["` + message + `"]` (null: the decoder has no string of it);
 * `ascii` when the decoder knows the message has only ASCII characters; `bytes` that payload as
 * received, when the decoder has it.
 */
export function rememberDecoded(message: string, payload: string | null, ascii: boolean, bytes: Buffer | null = null): void {
  decodedMessage = message;
  decodedPayload = payload;
  decodedQuoted = null;
  decodedAscii = ascii;
  decodedBytes = bytes;
  echoFrame = null;
}

/** The bytes of `frame` when it is the echo of the payload just decoded (long frames only): `a` + the payload. */
export function echoPayloadOf(frame: string): Buffer | null {
  return echoFrame !== null && frame === echoFrame ? decodedBytes : null;
}

/** JSON-quotes one message the SockJS way. Call once per message and reuse the result. */
export function quote(message: string): string {
  // Content comparison when not the same string; unequal lengths fail at once.
  if (message === decodedMessage) {
    if (decodedQuoted !== null) {
      // Asked again: a relay writing the message it was handed to several connections.
      shareQuoted(decodedQuoted);
      return decodedQuoted;
    }
    if (decodedAscii || ((message as string & WellFormedString).isWellFormed() && !UNSAFE.test(message))) {
      return (decodedQuoted = decodedPayload !== null ? decodedPayload.slice(1, -1) : '"' + message + '"');
    }
  }
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

// A quoted message that several sessions send in this flush round (a broadcast, or a relay
// handler writing the message it was handed to many connections): its frame is built once, and
// each transport encodes that frame once (sharedFrameId). Both are recognised as the very same
// string objects. Nothing is marked for one-to-one traffic, so an echo never compares its frame
// with an earlier one of equal length: a content comparison, and a flatten of concatenated strings.
let sharedQuoted: string | null = null;
let sharedFrame: string | null = null;
let sharedId = 0;

/** Marks a quoted message as going to several sessions in this flush round. */
export function shareQuoted(quoted: string): void {
  if (quoted === sharedQuoted) return;
  sharedQuoted = quoted;
  sharedFrame = null;
}

/** Ends the flush round: what was shared is forgotten. */
export function endShare(): void {
  sharedQuoted = null;
  sharedFrame = null;
}

/** The frame of a session's queued messages (quoted), built once for a shared message. */
export function queueFrame(quoted: readonly string[]): string {
  if (quoted.length !== 1) return arrayFrame(quoted);
  const q = quoted[0]!;
  if (sharedQuoted !== null && q === sharedQuoted) {
    // Shared first: one encoding for every session beats copying the payload for each.
    if (sharedFrame === null) {
      sharedFrame = 'a[' + q + ']';
      sharedId++;
    }
    return sharedFrame;
  }
  if (q.length >= ECHO_MIN && decodedBytes !== null && q === decodedQuoted) return (echoFrame ??= 'a[' + q + ']');
  return 'a[' + q + ']';
}

/** Non-zero for this round's shared frame, one number per shared frame: transports keep its encoding under it. */
export function sharedFrameId(frame: string): number {
  return sharedFrame !== null && frame === sharedFrame ? sharedId : 0;
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
