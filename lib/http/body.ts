/** Reading a request body with a size bound; also takes bodies that a body parser already read. */
import type { IncomingMessage } from 'node:http';
import { isUtf8 } from 'node:buffer';

export type BodyResult = { ok: true; text: string; bytes: number } | { ok: false; status: number; message: string };
type BodyCallback = (result: BodyResult) => void;

interface ParsedRequest extends IncomingMessage {
  body?: unknown;
  _body?: boolean;
}

/**
 * Calls back once with the body as text. Over `limit` bytes: 413. Not UTF-8: 400.
 * A body already consumed by Express middleware (express.text(), express.urlencoded()) is reused.
 */
export function readBody(req: IncomingMessage, limit: number, done: BodyCallback): void {
  const parsed = req as ParsedRequest;
  if (parsed._body === true || req.readableEnded) {
    done(fromParsed(parsed.body));
    return;
  }
  const declared = Number(req.headers['content-length']);
  if (declared > limit) {
    req.resume();
    done({ ok: false, status: 413, message: `Payload too large: the limit is ${limit} bytes.` });
    return;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  let finished = false;
  const finish = (result: BodyResult): void => {
    if (finished) return;
    finished = true;
    req.removeListener('data', onData);
    done(result);
  };
  const onData = (chunk: Buffer): void => {
    size += chunk.length;
    if (size > limit) {
      // Keep draining (not destroying) so the 413 can still be written on this connection.
      req.resume();
      finish({ ok: false, status: 413, message: `Payload too large: the limit is ${limit} bytes.` });
      return;
    }
    chunks.push(chunk);
  };
  req.on('data', onData);
  req.on('end', () => {
    const buf = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
    if (!isUtf8(buf)) finish({ ok: false, status: 400, message: 'Payload is not valid UTF-8.' });
    else finish({ ok: true, text: buf.toString('utf8'), bytes: size });
  });
  req.on('error', () => finish({ ok: false, status: 400, message: 'Request body could not be read.' }));
}

function parsedText(text: string): BodyResult {
  return { ok: true, text, bytes: Buffer.byteLength(text) };
}

function fromParsed(body: unknown): BodyResult {
  if (typeof body === 'string') return parsedText(body);
  if (Buffer.isBuffer(body)) return parsedText(body.toString('utf8'));
  if (body !== null && typeof body === 'object' && typeof (body as { d?: unknown }).d === 'string') {
    // express.urlencoded() already decoded a jsonp_send form: hand back the form again.
    return parsedText('d=' + encodeURIComponent((body as { d: string }).d));
  }
  if (body === undefined || body === null || (typeof body === 'object' && Object.keys(body).length === 0)) {
    return parsedText('');
  }
  // express.json() parsed the array of messages: re-encode it so one decoder checks it.
  return parsedText(JSON.stringify(body));
}
