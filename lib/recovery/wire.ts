/**
 * The recovery wire format (docs/recovery.md): control messages travel as ordinary
 * SockJS messages whose first character is U+0000, followed by a JSON object. An application
 * message that itself starts with U+0000 is sent with one more U+0000 in front. Shared by the
 * server and the companion client, so it imports nothing.
 */

export const RECOVERY_VERSION = 2;
/** The query parameter a client adds to the service URL to say it speaks recovery. */
export const RECOVERY_PARAM = 'sockjs-recovery';
/**
 * The query parameter by which a client opening a new connection gives its hello's version in the
 * URL. A server takes it over websockets only (it then needs no hello, and the client no round
 * trip): over HTTP a poll the network drops would take `ready` and the welcome with it.
 */
export const NEW_CONNECTION_PARAM = 'sockjs-recovery-new';

/** The value of query parameter `name` in `url` (its first), or null. Once per session: it copies nothing but the value. */
export function queryValue(url: string, name: string): string | null {
  // `at`: the `?` or `&` before a parameter.
  for (let at = url.indexOf('?'); at !== -1; at = url.indexOf('&', at + 1)) {
    if (url.startsWith(name, at + 1) && url.charCodeAt(at + 1 + name.length) === 61 /* = */) {
      const from = at + 2 + name.length;
      const end = url.indexOf('&', from);
      return url.slice(from, end === -1 ? url.length : end);
    }
  }
  return null;
}

/** The hello's version a URL gives in NEW_CONNECTION_PARAM (1 to 4 digits, at least 1); 0 when none. */
export function helloInUrl(url: string): number {
  const value = queryValue(url, NEW_CONNECTION_PARAM);
  if (value === null || value.length === 0 || value.length > 4) return 0;
  let v = 0;
  for (let i = 0; i < value.length; i++) {
    const digit = value.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return 0;
    v = v * 10 + digit;
  }
  return v;
}

/** U+0000, the first character of every control message. */
export const MARK = '\u0000';

/**
 * Application messages between two acknowledgements: the server's of the client's messages, and
 * the client's of the server's when the welcome names no cadence (a server before `ack`).
 */
export const ACK_EVERY = 32;

/**
 * The cadence a server asks of its clients in the welcome (`ack`, `ack_chars`): a quarter of its
 * replay buffer, in messages and in characters, so that a busy connection that parks has its
 * unconfirmed tail still in the buffer. Each ack is a message the server reads on its own (on a
 * busy room, a larger part of recovery's cost than keeping messages longer); at most 256
 * messages, so that a large `max_messages` does not keep that many per connection in memory.
 */
export function ackCadence(maxMessages: number, maxChars: number): { ack: number; ack_chars: number } {
  return { ack: Math.max(1, Math.min(256, Math.floor(maxMessages / 4))), ack_chars: Math.max(1, Math.floor(maxChars / 4)) };
}

/** Server → client, right after the SockJS open frame: this server speaks recovery (up to version `v`). */
export interface ReadyMessage {
  t: 'ready';
  v: number;
  /** The server took the URL's NEW_CONNECTION_PARAM as the hello: the welcome follows, no hello is wanted. */
  new?: boolean;
}

/** Client → server, answer to ready: a new connection, or a resume. */
export interface HelloMessage {
  t: 'hello';
  v: number;
  /** The resume credential from the last welcome; absent for a new connection. */
  resume?: string;
  /** Application messages received from the server so far (with `resume`). */
  recv?: number;
  /** Version 2, with `resume`: the stream position of the last `p` (or the welcome's `s`). */
  s?: string;
  /** Version 2: the rooms version of the last `p` (or the welcome's `g`). */
  g?: number;
  /** Version 2: room and broadcast messages received since the last `p`, up to the next `d`. */
  k?: number;
  /** Version 2: the client's messages the server confirmed (the last ack's or welcome's `recv`). */
  c?: number;
  /** Version 2: the client's messages sent so far (from `c` on, they are re-sent). */
  n?: number;
}

/** Why a welcome did not resume the connection a hello asked for. */
export type RefusalReason = 'unknown' | 'gap' | 'version';

/** Server → client, answer to hello. */
export interface WelcomeMessage {
  t: 'welcome';
  v: number;
  /** The credential for the next resume (single use: each welcome carries a new one). */
  token: string;
  /** True when the earlier connection was resumed; false for a new one. */
  recovered: boolean;
  /** Why a resume was refused: 'unknown' (expired, closed or never existed), 'gap' (the replay buffer no longer holds what was missed). */
  reason?: RefusalReason;
  /** Application messages from the client the server has delivered (the client re-sends from here). */
  recv: number;
  /** How long the server keeps a disconnected connection, in ms. */
  window_ms: number;
  /** Acknowledge the server's messages at least every `ack` of them (absent: every ACK_EVERY). */
  ack?: number;
  /** … and at least every `ack_chars` characters of them (absent: no such bound). */
  ack_chars?: number;
  /** Version 2, on a new connection whose server shares a stream (cross-process recovery): the stream position to start from. */
  s?: string;
  /** Version 2, with `s`: the rooms version to start from. */
  g?: number;
  /** Version 2: the connection was resumed on another process (docs/recovery.md says what that may lose). */
  moved?: boolean;
  /** With `moved`: whether direct writes of the old process may be lost (it wrote at least one). */
  direct?: boolean;
}

/**
 * Version 2, server → client, before a room or broadcast message when the client was not counting
 * them: the client has every such message up to stream entry `s` with rooms version `g`, and
 * counts from here (`k` in a hello).
 */
export interface PositionMessage {
  t: 'p';
  s: string;
  g: number;
}

/** Version 2, server → client, before a direct write (or after a rooms change): stop counting `k`. */
export interface DirectMessage {
  t: 'd';
}

/** Either side: how many application messages it has received (`recv`), and, from the server, how many it had sent before this message (`sent`). */
export interface AckMessage {
  t: 'ack';
  recv: number;
  sent?: number;
  /** From the client: answer with an ack at once (the client heard nothing for a while). */
  probe?: boolean;
}

/**
 * Client → server over HTTP transports: application messages `m` whose first is message number
 * `n` (from 0) of the connection. Browsers may send a POST twice (a request on a reused
 * connection that was reset before its answer is retried), so the server skips what it already has.
 */
export interface BatchMessage {
  t: 'b';
  n: number;
  m: string[];
}

/** Server → client: the application closed the connection; do not resume. Client → server: the client closed on purpose; do not wait for it. */
export interface CloseMessage {
  t: 'close';
  code: number;
  reason: string;
}

export type ControlMessage = ReadyMessage | HelloMessage | BatchMessage | WelcomeMessage | AckMessage | CloseMessage | PositionMessage | DirectMessage;

/** A control message as sent. */
export function control(message: ControlMessage): string {
  return MARK + JSON.stringify(message);
}

/** Whether a quoted message (as queued) starts with U+0000: `"\u0000`. */
export function quotedStartsWithNul(quoted: string): boolean {
  return quoted.charCodeAt(1) === 92 && quoted.startsWith('u0000', 2);
}

/** Whether a quoted message (as queued) is a control message: `"\u0000{`. */
export function isQuotedControl(quoted: string): boolean {
  return quoted.charCodeAt(1) === 92 && quoted.startsWith('u0000{', 2);
}

/** Whether a quoted control message is a position marker (`p` or `d`), which a replay re-sends. */
export function isQuotedMarker(quoted: string): boolean {
  return quoted.startsWith(P_PREFIX) || quoted === QUOTED_STOP;
}

const P_PREFIX = '"\\u0000{\\"t\\":\\"p\\"';
const QUOTED_STOP = '"\\u0000{\\"t\\":\\"d\\"}"';

/** Whether a received message is a control message (first character U+0000, second not). */
export function isControl(message: string): boolean {
  return message.charCodeAt(0) === 0 && message.charCodeAt(1) !== 0;
}

/** The control message in `message` (known to be one), or null when it is malformed. */
export function parseControl(message: string): ControlMessage | null {
  let v: unknown;
  try {
    v = JSON.parse(message.slice(1));
  } catch {
    return null;
  }
  if (v === null || typeof v !== 'object') return null;
  const t = (v as { t?: unknown }).t;
  return t === 'ready' || t === 'hello' || t === 'b' || t === 'welcome' || t === 'ack' || t === 'close' || t === 'p' || t === 'd' ? (v as ControlMessage) : null;
}

/** An application message as sent: one more U+0000 in front when it starts with one. */
export function escapeApp(message: string): string {
  return message.charCodeAt(0) === 0 ? MARK + message : message;
}

/** An application message as received (not a control message): its escape removed. */
export function unescapeApp(message: string): string {
  return message.charCodeAt(0) === 0 ? message.slice(1) : message;
}

/** A count as the wire carries it: a non-negative safe integer, or undefined. */
export function count(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : undefined;
}

/**
 * Where a batch's messages not yet delivered start, `received` having been delivered (the rest
 * came in a POST the browser repeated); -1 when the batch is malformed.
 */
export function batchStart(msg: BatchMessage, received: number): number {
  const n = count(msg.n);
  return n === undefined || n > received || !Array.isArray(msg.m) ? -1 : received - n;
}
