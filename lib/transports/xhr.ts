/**
 * XHR transports: `xhr` (polling: one frame per POST), `xhr_streaming` (one long POST response),
 * and `xhr_send` (client → server messages for every HTTP transport but JSONP).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Service } from '../service.js';
import type { Session } from '../session/session.js';
import { cors, noCache, sessionCookie } from '../http/headers.js';
import { JAVASCRIPT, TEXT, noContent } from '../http/respond.js';
import { encodeFrame, envelope } from '../protocol/encoded.js';
import type { SharedFrame } from '../protocol/shared-frame.js';
import { ResponseReceiver } from './receiver.js';
import { deliverPayload } from './send.js';

const XHR = envelope(1, (frame) => frame + '\n');

class XhrReceiver extends ResponseReceiver {
  protected encode(frame: string, shared: SharedFrame | null | undefined): Buffer {
    return encodeFrame(XHR, frame, shared);
  }
}

// 2 KiB of 'h' before the first frame: some browsers (old IE, some proxies) only hand a streaming
// response to the page after they have buffered that much.
const XHR_STREAMING_PRELUDE = 'h'.repeat(2048) + '\n';

function receiverHeaders(svc: Service, req: IncomingMessage, res: ServerResponse): void {
  res.setHeader('Content-Type', JAVASCRIPT);
  noCache(res);
  cors(req, res, svc.options);
  sessionCookie(req, res, svc.options);
}

export function xhrPolling(svc: Service, req: IncomingMessage, res: ServerResponse, sessionId: string): void {
  svc.withSession(req, res, sessionId, 'xhr-polling', (session) => {
    receiverHeaders(svc, req, res);
    session.attach(new XhrReceiver(session, res, 0));
  });
}

export function xhrStreaming(svc: Service, req: IncomingMessage, res: ServerResponse, sessionId: string): void {
  svc.withSession(req, res, sessionId, 'xhr-streaming', (session) => {
    receiverHeaders(svc, req, res);
    res.writeHead(200);
    res.write(XHR_STREAMING_PRELUDE);
    session.attach(new XhrReceiver(session, res, svc.options.response_limit));
  });
}

export function xhrSend(svc: Service, req: IncomingMessage, res: ServerResponse, session: Session): void {
  deliverPayload(svc, req, res, session, false, (r) => {
    r.setHeader('Content-Type', TEXT);
    noCache(r);
    cors(req, r, svc.options);
    sessionCookie(req, r, svc.options);
    noContent(r);
  });
}
