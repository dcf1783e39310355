/**
 * Websocket transports: `/<server>/<session>/websocket` carries SockJS frames (`o`, `a[...]`,
 * `h`, `c[...]`) and takes JSON arrays of messages; `/websocket` (raw) carries plain messages both
 * ways. Both run on `ws` in noServer mode, plus the legacy hixie-76 handshake when enabled.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { isUtf8 } from 'node:buffer';
import { WebSocketServer } from 'ws';
import { PayloadError, decodeMessages } from '../protocol/payload.js';
import { sendError } from '../http/respond.js';
import type { Service } from '../service.js';
import type { Receiver, Session } from '../session/session.js';
import { EncodedFrameCache } from '../protocol/encoded.js';
import { Hixie76Socket, isHixie76Request } from './hixie76.js';

/** What both `ws` sockets and hixie-76 sockets offer. */
interface MessageSocket {
  send(data: string | Buffer, options?: { binary: boolean }, cb?: (err?: Error | null) => void): unknown;
  close(code?: number, reason?: string): void;
  terminate(): void;
  ping?(): void;
  readonly bufferedAmount: number;
  on(event: 'message', listener: (data: Buffer | string, isBinary?: boolean) => void): unknown;
  on(event: 'close', listener: (code?: number, reason?: Buffer) => void): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
}

// Codes a server may put in a websocket close frame (RFC 6455 §7.4); others map to 1000.
function wireCode(code: number | undefined): number {
  if (code === undefined) return 1000;
  if (code >= 3000 && code <= 4999) return code;
  if (code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) return code;
  return 1000;
}

// A close reason must fit a control frame: 123 bytes of UTF-8.
function wireReason(reason: string | undefined): string {
  if (reason === undefined) return '';
  let r = reason;
  while (Buffer.byteLength(r) > 123) r = r.slice(0, -1);
  return r;
}

const TEXT = { binary: false };
// Websocket frames are the SockJS frames themselves; encoding them here (not in ws) gives the byte
// count for free and lets a broadcast share one buffer.
const wsFrames = new EncodedFrameCache((frame) => frame);

class WebSocketReceiver implements Receiver {
  private onWritten: (() => void) | null = null;

  constructor(
    private readonly session: Session,
    private readonly ws: MessageSocket,
    /** hixie-76 sockets take text only. */
    private readonly legacy: boolean,
  ) {}

  sendFrame(frame: string): boolean {
    this.write(wsFrames.get(frame), frame);
    return true;
  }

  sendRaw(message: string): void {
    this.write(Buffer.from(message), message);
  }

  ping(): void {
    // hixie-76 has no ping frame.
    this.ws.ping?.();
  }

  private write(bytes: Buffer, text: string): void {
    const session = this.session;
    session.host.stats.bytesOut[session.transport] += bytes.length;
    // The completion callback only while a drain is owed: no per-message closure otherwise.
    const done = session.needDrain ? (this.onWritten ??= () => session.drainCheck()) : undefined;
    if (this.legacy) this.ws.send(text, undefined, done);
    else if (done === undefined) this.ws.send(bytes, TEXT);
    else this.ws.send(bytes, TEXT, done);
  }

  end(code?: number, reason?: string): void {
    this.ws.close(wireCode(code), wireReason(reason));
  }

  get bufferedAmount(): number {
    return this.ws.bufferedAmount;
  }

  destroy(): void {
    this.ws.terminate();
  }
}

function messageText(data: Buffer | string, isBinary: boolean | undefined): string | null {
  if (typeof data === 'string') return data;
  // `ws` validates UTF-8 in text frames itself; binary frames are accepted only if they are text.
  if (isBinary === true && !isUtf8(data)) return null;
  return data.toString('utf8');
}

export function createWebSocketServer(maxPayload: number): WebSocketServer {
  // clientTracking off: sessions track their sockets; ws's own Set would double the bookkeeping.
  return new WebSocketServer({ noServer: true, clientTracking: false, perMessageDeflate: false, maxPayload });
}

/** Plain HTTP reached the websocket endpoint: say why it is not a websocket handshake. */
export function rejectHttp(req: IncomingMessage, res: ServerResponse): void {
  if ((req.headers.upgrade ?? '').toLowerCase() !== 'websocket') {
    sendError(res, 400, 'Can "Upgrade" only to "WebSocket".');
  } else {
    sendError(res, 400, '"Connection" must be "Upgrade".');
  }
}

/** Completes a websocket handshake for a session endpoint (`raw` = the plain /websocket one). */
export function upgradeWebSocket(svc: Service, req: IncomingMessage, socket: Duplex, head: Buffer, raw: boolean, locals?: Record<string, unknown>): void {
  if (svc.options.hixie76 && isHixie76Request(req)) {
    const legacy = new Hixie76Socket(req, socket, head, { maxMessageSize: svc.options.max_message_size });
    legacy.once('open', () => openSession(svc, req, legacy, raw, true, locals));
    return;
  }
  svc.wss.handleUpgrade(req, socket, head, (ws) => openSession(svc, req, ws as unknown as MessageSocket, raw, false, locals));
}

function openSession(
  svc: Service,
  req: IncomingMessage,
  ws: MessageSocket,
  raw: boolean,
  legacy: boolean,
  locals: Record<string, unknown> | undefined,
): void {
  if (!svc.accepting) {
    // close() began while the handshake was under way.
    ws.close(1001, 'Server is shutting down');
    return;
  }
  const session = svc.createSession(req, null, raw ? 'websocket-raw' : 'websocket', locals);
  const recv = new WebSocketReceiver(session, ws, legacy);
  const stats = svc.stats;
  stats.connectionsActive++;
  stats.connectionsTotal++;
  ws.on('message', raw ? (data, isBinary) => onRawMessage(session, ws, data, isBinary) : (data, isBinary) => onMessage(session, data, isBinary));
  ws.on('close', (code, reason) => {
    stats.connectionsActive--;
    session.receiverGone(recv, code ?? 1005, reason !== undefined ? reason.toString() : '', 'client');
  });
  // Socket errors (resets, protocol violations) end in 'close'; without a listener they would throw.
  ws.on('error', (err: Error & { code?: string }) => {
    if (err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' || err.code === 'HIXIE76_MESSAGE_TOO_BIG') {
      session.abort(1009, 'Message too big', 'limit');
    } else {
      svc.log('debug', 'websocket error: ' + err.message, { session_id: session.connection!.id, transport: raw ? 'websocket-raw' : 'websocket' });
    }
  });
  session.attach(recv);
}

function onMessage(session: Session, data: Buffer | string, isBinary: boolean | undefined): void {
  const text = messageText(data, isBinary);
  // Empty frames carry nothing; clients send them as keepalives.
  if (text === '') return;
  let messages: string[];
  try {
    if (text === null) throw new PayloadError('Payload is not valid UTF-8.');
    messages = decodeMessages(text);
  } catch (err) {
    if (!(err instanceof PayloadError)) throw err;
    session.abort(1002, 'Broken framing.', 'client');
    return;
  }
  session.deliver(messages, typeof data === 'string' ? Buffer.byteLength(data) : data.length);
}

function onRawMessage(session: Session, ws: MessageSocket, data: Buffer | string, isBinary: boolean | undefined): void {
  const text = messageText(data, isBinary);
  if (text === null) {
    ws.close(1007, 'Message is not valid UTF-8');
    return;
  }
  session.deliverOne(text, typeof data === 'string' ? Buffer.byteLength(data) : data.length);
}
