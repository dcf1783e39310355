/**
 * Sending one message to many connections: the message is quoted once for all framed sessions
 * (and their frames are then encoded once, see session.ts), raw websockets get it as it is.
 */
import type { Connection } from './connection.js';
import { quote, shareQuoted } from './protocol/frames.js';
import { OPEN } from './session/session.js';

/**
 * Sends `message` to each open connection not in `except` (ids); returns how many it was given to
 * (including connections over their high-water mark, which queue it).
 */
export function sendToAll(conns: Iterable<Connection>, message: string, except: ReadonlySet<string> | null): number {
  let quoted: string | null = null;
  let sent = 0;
  for (const conn of conns) {
    if (except !== null && except.has(conn.id)) continue;
    const s = conn.session;
    if (s.state !== OPEN) continue;
    sent++;
    if (s.raw) {
      s.sendRaw(message);
    } else {
      if (quoted === null) {
        quoted = quote(message);
        shareQuoted(quoted);
      }
      s.sendQuoted(quoted);
    }
  }
  return sent;
}
