/** The `c` (or `callback`) query parameter of htmlfile and jsonp: required, and a safe JS name. */
import type { IncomingMessage, ServerResponse } from 'node:http';
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
