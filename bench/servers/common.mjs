// Shared by the ESM bench servers: the service settings every server uses, the /__mem report, the
// bare http.Server of the non-Express ones, and where "ours" is loaded from.

/** Identical to sockjs-node's defaults; spelled out so both SockJS servers are configured alike. */
export const SETTINGS = {
  response_limit: 128 * 1024,
  heartbeat_delay: 25_000,
  disconnect_delay: 5_000,
};

import http from 'node:http';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
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

// The build of sockjs-express the "ours" servers run: this checkout's dist/, or BENCH_DIST (the
// dist/ of another revision, set by `bench/run.mjs --baseline <rev>`).
const DIST = process.env.BENCH_DIST
  ? path.resolve(process.env.BENCH_DIST)
  : path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../dist');

/** Imports one ESM entry of that build, e.g. `importOurs('index.js')`. */
export function importOurs(entry) {
  return import(pathToFileURL(path.join(DIST, 'esm', entry)).href);
}

/**
 * Service options of the "ours" variants run.mjs starts (`ours+recovery`, `ours+deflate`):
 * BENCH_RECOVERY=1 turns `recovery` on, BENCH_COMPRESSION=1 `compression`: its defaults, or
 * the settings in BENCH_COMPRESSION_OPTIONS (JSON, e.g. '{"server_max_window_bits":10}').
 */
export function variantOptions() {
  const o = {};
  if (process.env.BENCH_RECOVERY === '1') o.recovery = true;
  if (process.env.BENCH_COMPRESSION === '1') {
    o.compression = process.env.BENCH_COMPRESSION_OPTIONS ? JSON.parse(process.env.BENCH_COMPRESSION_OPTIONS) : true;
  }
  return o;
}
