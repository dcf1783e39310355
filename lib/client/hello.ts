/**
 * The companion client's hello (docs/recovery.md, the wire): a new connection's, or a resume's
 * with what the client has of the server's messages and what the server confirmed of its own.
 */
import type { LogPosition } from './log-position.js';
import type { SendQueue } from './send-queue.js';
import { NEW_CONNECTION_PARAM, RECOVERY_PARAM, RECOVERY_VERSION, type HelloMessage } from '../recovery/wire.js';

/**
 * `url` asking for recovery. A new connection (no credential) gives its hello there too: a server
 * that takes it (over a websocket) sends the welcome at once, a round trip sooner.
 */
export function recoveryUrl(url: string, token: string | null): string {
  const ask = RECOVERY_PARAM + '=1' + (token === null ? '&' + NEW_CONNECTION_PARAM + '=' + RECOVERY_VERSION : '');
  return url + (url.includes('?') ? '&' : '?') + ask;
}

/** The hello for credential `token` (null: a new connection), `recv` messages received. */
export function helloFor(token: string | null, recv: number, log: LogPosition, queue: SendQueue): HelloMessage {
  if (token === null) return { t: 'hello', v: RECOVERY_VERSION };
  const hello: HelloMessage = { t: 'hello', v: RECOVERY_VERSION, resume: token, recv };
  // With a log position, another process can take the connection over (docs/recovery.md).
  const at = log.hello();
  if (at !== null) Object.assign(hello, at, { c: queue.confirmedCount, n: queue.sentCount });
  return hello;
}
