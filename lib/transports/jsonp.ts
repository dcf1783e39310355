/** JSONP polling: `GET /jsonp?c=cb` answers one frame as `cb("frame")`; `POST /jsonp_send` sends. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Service } from '../service.js';
import type { Session } from '../session/session.js';
import { noCache, sessionCookie } from '../http/headers.js';
import { JAVASCRIPT, TEXT, sendBody } from '../http/respond.js';
import { ResponseReceiver } from './receiver.js';
import { callbackReceiver } from './callback.js';
import { deliverPayload } from './send.js';

class JsonpReceiver extends ResponseReceiver {
  constructor(session: Session, res: ServerResponse, private readonly callback: string) {
    super(session, res, 0);
  }

  // The leading comment defeats the Rosetta Flash attack (a response starting with a
  // client-chosen callback name could be read as a Flash file).
  protected encode(frame: string): Buffer {
    return Buffer.from('/**/' + this.callback + '(' + JSON.stringify(frame) + ');\r\n');
  }
}

export function jsonpPolling(svc: Service, req: IncomingMessage, res: ServerResponse, sessionId: string): void {
  callbackReceiver(svc, req, res, sessionId, 'jsonp-polling', JAVASCRIPT, (session, callback) => {
    session.attach(new JsonpReceiver(session, res, callback));
  });
}

export function jsonpSend(svc: Service, req: IncomingMessage, res: ServerResponse, session: Session): void {
  deliverPayload(svc, req, res, session, true, (r) => {
    noCache(r);
    sessionCookie(req, r, svc.options);
    sendBody(r, 200, TEXT, 'ok');
  });
}
