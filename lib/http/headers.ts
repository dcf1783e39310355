/** Response header policies: CORS, caching, and the JSESSIONID cookie. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import vary from 'vary';
import type { ResolvedOptions } from '../options.js';

const YEAR_S = 365 * 24 * 60 * 60;
const NO_CACHE = 'no-store, no-cache, no-transform, must-revalidate, max-age=0';
const SAFE_HEADER_VALUE = /^[\x20-\x7e]*$/;

/** Private data fetched with GET or POST must never be cached by browsers or proxies. */
export function noCache(res: ServerResponse): void {
  res.setHeader('Cache-Control', NO_CACHE);
}

/**
 * Responses that carry script (jsonp, htmlfile, the iframe page): browsers must take them as
 * their declared type only, never sniff another one from a body that holds client text.
 */
export function noSniff(res: ServerResponse): void {
  res.setHeader('X-Content-Type-Options', 'nosniff');
}

/** Static answers (iframe page, preflights) are cached for a year. */
export function cacheForYear(res: ServerResponse): void {
  res.setHeader('Cache-Control', 'public, max-age=' + YEAR_S);
  res.setHeader('Expires', new Date(Date.now() + YEAR_S * 1000).toUTCString());
}

/**
 * Cross-origin XHR transports need the request's origin echoed with credentials allowed, so the
 * JSESSIONID cookie can flow. `Origin: null` (file:// pages) is echoed too; without an Origin, `*`.
 */
export function cors(req: IncomingMessage, res: ServerResponse, options: ResolvedOptions): void {
  if (options.disable_cors) return;
  const origin = req.headers.origin;
  if (origin !== undefined && origin !== '' && SAFE_HEADER_VALUE.test(origin)) {
    res.setHeader('Access-Control-Allow-Origin', origin);
    res.setHeader('Access-Control-Allow-Credentials', 'true');
  } else {
    res.setHeader('Access-Control-Allow-Origin', '*');
  }
  vary(res, 'Origin');
  const requested = req.headers['access-control-request-headers'];
  if (requested !== undefined && requested !== '' && SAFE_HEADER_VALUE.test(requested)) {
    res.setHeader('Access-Control-Allow-Headers', requested);
  }
}

/** The CORS preflight answer: 204, cacheable for a year. */
export function preflight(req: IncomingMessage, res: ServerResponse, options: ResolvedOptions, methods: string): void {
  res.statusCode = 204;
  cacheForYear(res);
  if (!options.disable_cors) {
    res.setHeader('Access-Control-Allow-Methods', methods);
    res.setHeader('Access-Control-Max-Age', String(YEAR_S));
  }
  cors(req, res, options);
  sessionCookie(req, res, options);
  res.end();
}

/** Sticky load balancers route by JSESSIONID; set it when the service asks for it. */
export function sessionCookie(req: IncomingMessage, res: ServerResponse, options: ResolvedOptions): void {
  if (options.cookie_needed !== null) options.cookie_needed(req, res);
}
