/** The sending half shared by xhr_send and jsonp_send: read, decode, deliver, answer. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseQuery } from 'node:querystring';
import { PayloadError, decodeMessages } from '../protocol/payload.js';
import { readBody } from '../http/body.js';
import { sendError } from '../http/respond.js';
import type { Service } from '../service.js';
import { requestId } from '../log.js';
import type { Session } from '../session/session.js';

/**
 * Reads the request body as messages and hands them to the session. `form` accepts jsonp_send's
 * `d=<payload>` (urlencoded) as well as a raw body. Errors are the protocol's 500s.
 */
export function deliverPayload(
  svc: Service,
  req: IncomingMessage,
  res: ServerResponse,
  session: Session,
  form: boolean,
  answer: (res: ServerResponse) => void,
): void {
  readBody(req, svc.options.max_message_size, (body) => {
    if (!body.ok) {
      sendError(res, body.status, body.message);
      return;
    }
    let text = body.text;
    if (form && isForm(req)) {
      const d = parseQuery(text).d;
      text = typeof d === 'string' ? d : '';
    }
    let messages: string[];
    try {
      messages = decodeMessages(text, false);
    } catch (err) {
      if (!(err instanceof PayloadError)) throw err;
      svc.log('debug', 'bad payload: ' + err.message, { request_id: requestId(req), session_id: session.connection!.id, transport: session.connection!.protocol });
      sendError(res, 500, err.message);
      return;
    }
    // Answer first: a listener that throws must not leave the client's request hanging.
    answer(res);
    session.deliver(messages, body.bytes);
  });
}

function isForm(req: IncomingMessage): boolean {
  const type = req.headers['content-type'];
  return type !== undefined && type.toLowerCase().startsWith('application/x-www-form-urlencoded');
}
