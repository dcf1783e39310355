/** The receiving side of htmlfile and jsonp: the `c` (or `callback`) query parameter, required and a safe JS name, and the response's headers. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Service } from '../service.js';
import type { Session } from '../session/session.js';
import type { TransportName } from '../options.js';
import { noCache, noSniff, sessionCookie } from '../http/headers.js';
import { sendError } from '../http/respond.js';

const VALID = /^[a-zA-Z0-9_.-]{1,32}$/;

/** Returns the callback name, or answers 500 as the protocol prescribes and returns null. */
export function callbackParam(req: IncomingMessage, res: ServerResponse): string | null {
  const url = req.url ?? '';
  const q = url.indexOf('?');
  const params = new URLSearchParams(q === -1 ? '' : url.slice(q + 1));
  const value = params.get('c') ?? params.get('callback');
  if (value === null || value === '') {
    sendError(res, 500, '"callback" parameter required');
    return null;
  }
  if (!VALID.test(value)) {
    sendError(res, 500, 'invalid "callback" parameter');
    return null;
  }
  return value;
}

/**
 * A receiving request of htmlfile or jsonp: the callback checked (500 without a good one), then
 * the session, the response's headers set (no CORS: a script or an iframe loads these), and
 * `attach` to give the session its receiver.
 */
export function callbackReceiver(
  svc: Service, req: IncomingMessage, res: ServerResponse, sessionId: string, protocol: TransportName, contentType: string,
  attach: (session: Session, callback: string) => void,
): void {
  const callback = callbackParam(req, res);
  if (callback === null) return;
  svc.withSession(req, res, sessionId, protocol, (session) => {
    res.setHeader('Content-Type', contentType);
    noSniff(res);
    noCache(res);
    sessionCookie(req, res, svc.options);
    attach(session, callback);
  });
}
