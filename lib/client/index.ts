/**
 * `sockjs-express/client`: a reconnecting client over sockjs-client that resumes connections on
 * servers with `recovery` on (docs/recovery.md). Runs in browsers and Node.
 */
import { RecoveringSocket } from './socket.js';
import type { ConnectOptions } from './types.js';

export { RecoveringSocket };
export type { ConnectOptions, LostInfo, RecoveredInfo, RecoveringSocketEvents, SockJSConstructor, SockJSLike } from './types.js';
export type { BackoffOptions } from './backoff.js';

/** Connects to the SockJS service at `url` (e.g. `/chat`), reconnecting until close(). */
export function connect(url: string, options?: ConnectOptions): RecoveringSocket {
  return new RecoveringSocket(url, options);
}
