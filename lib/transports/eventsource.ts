/** EventSource: `GET /eventsource`, frames as server-sent events. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Service } from '../service.js';
import { cors, noCache, sessionCookie } from '../http/headers.js';
import { EncodedFrameCache } from '../protocol/encoded.js';
import { ResponseReceiver } from './receiver.js';

// Frames are JSON-escaped, so they never contain the CR/LF that would split an event.
const eventFrames = new EncodedFrameCache((frame) => 'data: ' + frame + '\r\n\r\n');

class EventSourceReceiver extends ResponseReceiver {
  protected encode(frame: string): Buffer {
    return eventFrames.get(frame);
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
