/** EventSource: `GET /eventsource`, frames as server-sent events. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Service } from '../service.js';
import { cors, noCache, sessionCookie } from '../http/headers.js';
import { encodeFrame, envelope } from '../protocol/encoded.js';
import type { SharedFrame } from '../protocol/shared-frame.js';
import { ResponseReceiver } from './receiver.js';

// sockjs-client runs decodeURI() on every event's data, so '%' must be sent as %25; CR, LF and NUL
// (which would split or end an event) are percent-escaped too, though JSON quoting already keeps
// them out of frames.
const NEEDS_ESCAPE = /[%\r\n\0]/;
const ESCAPE_ALL = /[%\r\n\0]/g;
const PERCENT: Record<string, string> = { '%': '%25', '\r': '%0D', '\n': '%0A', '\0': '%00' };

function eventData(frame: string): string {
  const data = NEEDS_ESCAPE.test(frame) ? frame.replace(ESCAPE_ALL, (c) => PERCENT[c]!) : frame;
  return 'data: ' + data + '\r\n\r\n';
}

const EVENT = envelope(2, eventData);

class EventSourceReceiver extends ResponseReceiver {
  protected encode(frame: string, shared: SharedFrame | null | undefined): Buffer {
    return encodeFrame(EVENT, frame, shared);
  }
}

export function eventSource(svc: Service, req: IncomingMessage, res: ServerResponse, sessionId: string): void {
  svc.withSession(req, res, sessionId, 'eventsource', (session) => {
    res.setHeader('Content-Type', 'text/event-stream');
    noCache(res);
    cors(req, res, svc.options);
    sessionCookie(req, res, svc.options);
    res.writeHead(200);
    // An empty line first: Opera 10's EventSource needed a line before the first event.
    res.write('\r\n');
    session.attach(new EventSourceReceiver(session, res, svc.options.response_limit));
  });
}
