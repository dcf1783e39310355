/**
 * `GET /info`: what the client needs before choosing a transport, with fresh entropy each time
 * (browsers' own random sources were weak). Its round trip also gives the client its RTT estimate.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ResolvedOptions } from '../options.js';
import { cors, noCache } from './headers.js';
import { JSON_TYPE, SHUTTING_DOWN, sendBody, unavailable } from './respond.js';
import type { EntropyPool } from '../entropy.js';

export function info(req: IncomingMessage, res: ServerResponse, options: ResolvedOptions, entropy: EntropyPool): void {
  noCache(res);
  cors(req, res, options);
  const body =
    '{"websocket":' + !options.disabled.has('websocket') +
    ',"origins":' + JSON.stringify(options.origin_list) + ',"cookie_needed":' + (options.cookie_needed !== null) +
    ',"entropy":' + entropy.next() + '}';
  sendBody(res, 200, JSON_TYPE, body);
}

/**
 * `/info` while the service shuts down: sockjs-client treats any answer but 200 as "cannot
 * connect" and closes at once (1002), instead of trying each transport into a 503. With CORS
 * headers, so that a cross-origin client reads the answer rather than a network error.
 */
export function infoUnavailable(req: IncomingMessage, res: ServerResponse, options: ResolvedOptions): void {
  noCache(res);
  cors(req, res, options);
  unavailable(res, SHUTTING_DOWN);
}
