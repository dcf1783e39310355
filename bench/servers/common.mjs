// Shared by the ESM bench servers: the service settings every server uses, the /__mem report, and
// the bare http.Server of the non-Express ones.

/** Identical to sockjs-node's defaults; spelled out so both SockJS servers are configured alike. */
export const SETTINGS = {
  response_limit: 128 * 1024,
  heartbeat_delay: 25_000,
  disconnect_delay: 5_000,
};

import http from 'node:http';
import { memReport } from './mem.cjs';

export { memReport };

/**
 * The plain http.Server the non-Express bench servers listen on: GET /__mem answers the memory
 * report for `sessions()` open sessions; other requests are 404, except paths under `keep`
 * (a library that answers them itself, as socket.io does under /socket.io/).
 */
export function benchHttpServer(sessions, keep = null) {
  return http.createServer((req, res) => {
    if (req.url === '/__mem') {
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify(memReport({ sessions: sessions() })));
      return;
    }
    if (keep !== null && req.url.startsWith(keep)) return;
    res.statusCode = 404;
    res.end();
  });
}
