/**
 * Every use of another package's or Node's private fields, in one place. Each is pinned by
 * spec/core/internals.test.ts, which fails the day the field changes shape, and each has a
 * fallback, which that test forces with SOCKJS_EXPRESS_NO_INTERNALS=1. What each one buys is in
 * docs/performance.md ("Borrowed internals").
 */
import type { ServerResponse } from 'node:http';

const enabled = process.env.SOCKJS_EXPRESS_NO_INTERNALS !== '1';

/** The options `ws.send(text, { binary: false })` hands its frame writer on a server socket without compression. */
export const TEXT_FRAME = Object.freeze({ binary: false, mask: false, compress: false, fin: true });
/** The same, deflated: frames from the `compression` threshold up, on a socket that negotiated permessage-deflate. */
export const DEFLATED_FRAME = Object.freeze({ binary: false, mask: false, compress: true, fin: true });

/** `ws`'s frame writer (WebSocket#_sender, ws 8): what ws.send() ends in once it has built its options. */
export interface FrameSender {
  send(data: string | Buffer, options: typeof TEXT_FRAME | typeof DEFLATED_FRAME, cb?: (err?: Error | null) => void): void;
}

/**
 * The frame writer of a `ws` socket, or null (fallback: ws.send). ws.send spreads its options into
 * a literal of its defaults, a key at a time through V8's runtime, on every message.
 */
export function frameSenderOf(ws: object): FrameSender | null {
  if (!enabled) return null;
  const sender = (ws as { _sender?: Partial<FrameSender> | null })._sender;
  return typeof sender?.send === 'function' ? (sender as FrameSender) : null;
}

/**
 * Node keeps a response's head (`_header`) for as long as the response lives, as it built it: by
 * concatenation, which V8 holds as a tree of string pieces. A streaming response lives as long as
 * its session; reading one character makes V8 flatten the tree in place into a single string.
 * Fallback: the tree stays.
 */
export function flattenHead(res: ServerResponse): void {
  if (!enabled) return;
  const head = (res as ServerResponse & { _header?: unknown })._header;
  if (typeof head === 'string' && head.length > 0) head.charCodeAt(0);
}

/**
 * The layer stack of an Express or Connect router or app (a Router's `stack`; an Express 4 app's
 * `_router.stack`, an Express 5 app's `router.stack`), or undefined. The router's fast path reads
 * its own (one layer: no matching needed); the shared-mount warning reads the app's. Fallback:
 * every request goes through the Router's own matching, and no warning.
 */
export function layerStack(handler: unknown): unknown[] | undefined {
  if (!enabled) return undefined;
  const h = handler as { stack?: unknown; router?: { stack?: unknown }; _router?: { stack?: unknown } } | null;
  if (h === null || (typeof h !== 'function' && typeof h !== 'object')) return undefined;
  // An Express 5 app's router is created on first use; reading `router` then is harmless.
  const s = h.stack ?? h._router?.stack ?? h.router?.stack;
  return Array.isArray(s) ? s : undefined;
}

/**
 * Lets go of the `next` Express's router leaves on a request it dispatched (`req.next`), with the
 * chain of per-request closures behind it: a request held for hours (a stream, a poll) never calls
 * it again. Fallback: they stay alive as long as the request.
 */
export function releaseRouterNext(req: object): void {
  if (enabled && (req as { next?: unknown }).next !== undefined) (req as { next?: unknown }).next = undefined;
}

/**
 * The response that owns a server socket at the moment (Node's socket._httpMessage): a request
 * pipelined behind it must wait for it. Fallback (null): no wait, as for a fresh connection, so
 * a handshake pipelined behind an unfinished answer would interleave with it (browsers never
 * pipeline; only hand-made clients do).
 */
export function responseOnSocket(socket: object): ServerResponse | null {
  if (!enabled) return null;
  return (socket as { _httpMessage?: ServerResponse | null })._httpMessage ?? null;
}

/** A writable stream as quietRepeatEnds sees it. */
interface EndableStream {
  end(chunk?: unknown, encoding?: unknown, cb?: unknown): unknown;
  readonly writableEnded: boolean;
  readonly writableCorked: number;
}

function isEndable(x: unknown): x is EndableStream {
  return typeof x === 'object' && x !== null && typeof (x as { end?: unknown }).end === 'function' && typeof (x as { writableEnded?: unknown }).writableEnded === 'boolean';
}

// Called again without arguments on an ended stream, Node's end() does nothing but build that
// error (and drop it); every other call goes to it.
function endOnce(this: EndableStream, chunk?: unknown, encoding?: unknown, cb?: unknown): unknown {
  if (chunk === undefined && encoding === undefined && cb === undefined && this.writableEnded && this.writableCorked === 0) return this;
  return (Object.getPrototypeOf(this) as EndableStream).end.call(this, chunk, encoding, cb);
}

/**
 * `ws` 8 ends the streams of every websocket that closes more than once: its TCP socket (once both
 * close frames are out, again on the peer's FIN) and its frame reader, `_receiver` (on the close
 * frame, again on FIN and on 'close'). Node answers each repeated end() with an
 * ERR_STREAM_ALREADY_FINISHED built with a full stack trace, which nobody reads. Fallback: it does.
 */
export function quietRepeatEnds(ws: object, socket: object): void {
  if (!enabled) return;
  if (isEndable(socket)) socket.end = endOnce;
  const receiver = (ws as { _receiver?: unknown })._receiver;
  if (isEndable(receiver)) receiver.end = endOnce;
}
