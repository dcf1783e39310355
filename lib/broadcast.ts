/**
 * Sending one message to many connections: the message is quoted once for all framed sessions,
 * and the frames they send in this round are built and encoded once (SharedFrame); raw websockets
 * get it as it is.
 */
import type { Connection } from './connection.js';
import { quote } from './protocol/frames.js';
import { SharedFrame } from './protocol/shared-frame.js';
import { OPEN } from './session/session.js';

/**
 * Sends `message` to each open connection not in `except` (ids); returns how many it was given to
 * (including connections over their high-water mark, which queue it).
 */
export function sendToAll(conns: Iterable<Connection>, message: string, except: ReadonlySet<string> | null): number {
  let shared: SharedFrame | null = null;
  let sent = 0;
  for (const conn of conns) {
    if (except !== null && except.has(conn.id)) continue;
    const s = conn.outlet;
    if (s.state !== OPEN) continue;
    sent++;
    if (s.raw) s.write(message);
    else s.sendShared((shared ??= new SharedFrame(quote(message))));
  }
  return sent;
}
