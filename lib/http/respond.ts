/** Small HTTP answers shared by every endpoint: exact status, headers and body, nothing more. */
import type { ServerResponse } from 'node:http';

export const TEXT = 'text/plain; charset=UTF-8';
export const JAVASCRIPT = 'application/javascript; charset=UTF-8';
export const JSON_TYPE = 'application/json; charset=UTF-8';
export const HTML = 'text/html; charset=UTF-8';

/** Sends a complete body with Content-Length (so keep-alive and HTTP/1.0 clients behave). */
export function sendBody(res: ServerResponse, status: number, contentType: string, body: string): void {
  res.statusCode = status;
  res.setHeader('Content-Type', contentType);
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.end(body);
}

/** A plain-text error; the protocol suite reads these messages from 500 bodies. */
export function sendError(res: ServerResponse, status: number, message: string): void {
  sendBody(res, status, TEXT, message);
}

/** 503 with `Retry-After`: try again later (full, or shutting down). */
export function unavailable(res: ServerResponse, message: string): void {
  res.setHeader('Retry-After', '1');
  sendError(res, 503, message);
}

export const SHUTTING_DOWN = 'This SockJS service is shutting down.';

export function notFound(res: ServerResponse): void {
  sendBody(res, 404, TEXT, 'Not found.\n');
}

/** 405 with `Allow`, and no body or content type (as the protocol requires). */
export function methodNotAllowed(res: ServerResponse, allow: string): void {
  res.statusCode = 405;
  res.setHeader('Allow', allow);
  res.setHeader('Content-Length', 0);
  res.end();
}

export function noContent(res: ServerResponse): void {
  res.statusCode = 204;
  res.end();
}
