/**
 * What a welcome says (docs/recovery.md, wire format 5): the credential, whether the connection
 * was resumed, what the server delivered of the client's messages, the window and the
 * acknowledgement cadence; for a new connection of a version-2 client with a shared store, the
 * stream position it counts from; after a move to this process, that it moved.
 */
import type { Link } from './link.js';
import type { Recovery } from './recovery.js';
import type { RefusalReason, WelcomeMessage } from './wire.js';

export function welcomeMessage(
  link: Link,
  recovery: Recovery,
  token: string,
  recovered: boolean,
  reason?: RefusalReason,
  moved?: { moved: true; direct: boolean },
): WelcomeMessage {
  const { ack, ack_chars } = recovery.cadence;
  const msg: WelcomeMessage = { t: 'welcome', v: link.version, token, recovered, recv: link.received, window_ms: recovery.options.window_ms, ack, ack_chars };
  if (reason !== undefined) msg.reason = reason;
  if (link.log !== null && !recovered) {
    msg.s = recovery.remote!.cursor;
    msg.g = link.log.g;
  }
  if (moved !== undefined) {
    msg.moved = true;
    msg.direct = moved.direct;
  }
  return msg;
}
