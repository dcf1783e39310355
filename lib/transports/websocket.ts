/**
 * Websocket transports: `/<server>/<session>/websocket` carries SockJS frames (`o`, `a[...]`,
 * `h`, `c[...]`) and takes JSON arrays of messages; `/websocket` (raw) carries plain messages both
 * ways. Both run on `ws` in noServer mode, plus the legacy hixie-76 handshake when enabled.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { isUtf8 } from 'node:buffer';
import { WebSocket, WebSocketServer } from 'ws';
import { PayloadError, decodeMessages } from '../protocol/payload.js';
import { closeCode, closeReason } from '../protocol/close-frame.js';
import { envelope } from '../protocol/encoded.js';
import { plainSingle } from '../protocol/plain-payload.js';
import type { SharedFrame } from '../protocol/shared-frame.js';
import { sendError } from '../http/respond.js';
import { DEFLATED_FRAME, TEXT_FRAME, frameSenderOf, quietRepeatEnds, type FrameSender } from '../internals.js';
import type { Service } from '../service.js';
import type { Receiver, Session } from '../session/session.js';
import { Hixie76Socket, isHixie76Request } from './hixie76.js';
import { wsDeflateOptions, type ResolvedCompression } from '../compression.js';

/** What both `ws` sockets and hixie-76 sockets offer. */
interface MessageSocket {
  send(data: string | Buffer, options?: { binary: boolean }, cb?: (err?: Error | null) => void): unknown;
  close(code?: number, reason?: string): void;
  terminate(): void;
  ping?(): void;
  readonly bufferedAmount: number;
  readonly readyState: number;
  on(event: 'message', listener: (data: Buffer | string, isBinary?: boolean) => void): unknown;
  on(event: 'close', listener: (code?: number, reason?: Buffer) => void): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
}

// ws.send's options for the fallback (no frame writer): compression decided here, as for the writer.
const TEXT = { binary: false, compress: false };
const TEXT_DEFLATED = { binary: false, compress: true };

// What a frame or raw message goes to `ws` as. Below 4 KiB as a Buffer that Buffer.from() slices
// from Node's shared pool: a string would cost a native allocation in the socket write. From
// 4 KiB on as the string itself: a Buffer of its own costs more than the write's native copy.
// A frame several sessions send (a broadcast) is encoded once, for all of them, whatever its size.
const POOLED = 4096;
const WEBSOCKET = envelope(0, (frame) => frame);

function frameData(frame: string, shared: SharedFrame | null | undefined): string | Buffer {
  if (shared != null) return shared.encoded(WEBSOCKET);
  // Under a third of POOLED characters is under POOLED bytes: no byte count needed first.
  if (frame.length < POOLED / 3 || (frame.length < POOLED && Buffer.byteLength(frame) < POOLED)) return Buffer.from(frame);
  return frame;
}

/**
 * `ws`'s WebSocket carrying its session's receiver: the socket listeners below are shared
 * functions that find the receiver through `this`, rather than closures made for every session.
 */
class SessionWebSocket extends WebSocket {
  recv: WebSocketReceiver | null = null;
}

/** What the shared listeners are called on: a SessionWebSocket or a Hixie76Socket. */
interface ReceiverHolder {
  recv: unknown;
}

class WebSocketReceiver implements Receiver {
  private onWritten: (() => void) | null = null;
  /** `ws`'s frame writer, used while the socket is open (null for hixie-76). */
  private readonly sender: FrameSender | null;
  /** Frames of this many bytes or more are deflated (Infinity: the socket is not compressed). */
  private readonly deflateFrom: number;

  constructor(
    svc: Service,
    private readonly session: Session,
    private readonly ws: MessageSocket,
    /** The TCP socket under `ws`, null for hixie-76: what it has read tells the peer is alive. */
    private readonly socket: Duplex | null,
  ) {
    const legacy = socket === null;
    this.sender = legacy ? null : frameSenderOf(ws);
    const threshold = svc.options.compression?.threshold;
    const deflated = !legacy && threshold !== undefined && (ws as { extensions?: string }).extensions?.includes('permessage-deflate') === true;
    this.deflateFrom = deflated ? threshold : Infinity;
  }

  /** hixie-76 sockets take text only. */
  private get legacy(): boolean {
    return this.socket === null;
  }

  get streams(): boolean {
    return true;
  }

  get cheapFrames(): boolean {
    return true;
  }

  sendFrame(frame: string, shared?: SharedFrame | null): boolean {
    const data = this.legacy ? frame : frameData(frame, shared);
    this.write(data, typeof data === 'string' ? Buffer.byteLength(data) : data.length);
    return true;
  }

  sendRaw(message: string): void {
    const n = Buffer.byteLength(message);
    this.write(this.legacy || n >= POOLED ? message : Buffer.from(message), n);
  }

  ping(): void {
    // hixie-76 has no ping frame.
    this.ws.ping?.();
  }

  heardBytes(): number {
    // hixie-76 has no ping for a live peer to answer: its silence tells nothing.
    const read = (this.socket as { bytesRead?: unknown } | null)?.bytesRead;
    return typeof read === 'number' ? read : -1;
  }

  /** Counts the bytes going out; the completion callback, only while a drain is owed (no per-message closure otherwise). */
  private sending(bytes: number): (() => void) | undefined {
    const session = this.session;
    session.host.stats.bytesOut[session.transport] += bytes;
    return session.outbox.needDrain ? (this.onWritten ??= () => session.drainCheck()) : undefined;
  }

  private write(data: string | Buffer, bytes: number): void {
    const done = this.sending(bytes);
    const sender = this.sender;
    // Not open (closing): ws.send() answers that itself, as for any late write.
    if (sender !== null && this.ws.readyState === WebSocket.OPEN) sender.send(data, bytes >= this.deflateFrom ? DEFLATED_FRAME : TEXT_FRAME, done);
    else if (this.legacy) this.ws.send(data, undefined, done);
    else this.ws.send(data, bytes >= this.deflateFrom ? TEXT_DEFLATED : TEXT, done);
  }

  end(code?: number, reason?: string): void {
    this.ws.close(closeCode(code), closeReason(reason));
  }

  get bufferedAmount(): number {
    return this.ws.bufferedAmount;
  }

  destroy(): void {
    this.ws.terminate();
  }

  /** A SockJS websocket message: a JSON array of messages. */
  framedMessage(data: Buffer | string, isBinary: boolean | undefined): void {
    const session = this.session;
    if (isBinary === true) {
      // SockJS frames are JSON text; a binary frame is not one (1003: a type not accepted).
      session.abort(1003, 'Binary frames are not accepted', 'client');
      return;
    }
    if (typeof data !== 'string') {
      const one = plainSingle(data);
      if (one !== null) {
        this.hand(one, null, data.length);
        return;
      }
    }
    // `ws` has checked the UTF-8 of text frames.
    const text = typeof data === 'string' ? data : data.toString('utf8');
    // Empty frames carry nothing; clients send them as keepalives.
    if (text === '') return;
    let messages: string[];
    try {
      messages = decodeMessages(text);
    } catch (err) {
      if (!(err instanceof PayloadError)) throw err;
      session.abort(1002, 'Broken framing.', 'client');
      return;
    }
    this.hand(null, messages, typeof data === 'string' ? Buffer.byteLength(data) : data.length);
  }

  /** Hands the client's messages (`one`, or `many`) to the session; what its handlers write back leaves as they return. */
  private hand(one: string | null, many: readonly string[] | null, bytes: number): void {
    this.session.answering = true;
    try {
      if (one !== null) this.session.deliverOne(one, bytes);
      else this.session.deliver(many!, bytes);
    } finally {
      this.session.answered();
    }
  }

  /** A raw websocket message: the message itself. */
  rawMessage(data: Buffer | string, isBinary: boolean | undefined): void {
    const text = messageText(data, isBinary);
    if (text === null) {
      this.ws.close(1007, 'Message is not valid UTF-8');
      return;
    }
    this.session.deliverOne(text, typeof data === 'string' ? Buffer.byteLength(data) : data.length);
  }

  closed(code: number | undefined, reason: Buffer | undefined): void {
    this.session.host.stats.connectionsActive--;
    this.session.receiverGone(this, code ?? 1005, reason !== undefined ? reason.toString() : '', 'client');
  }

  failed(err: Error & { code?: string }): void {
    const session = this.session;
    if (err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' || err.code === 'HIXIE76_MESSAGE_TOO_BIG') {
      session.abort(1009, 'Message too big', 'limit');
    } else {
      this.session.host.log('debug', 'websocket error: ' + err.message, { session_id: session.connection!.id, transport: session.raw ? 'websocket-raw' : 'websocket' });
    }
  }
}

function onFramedMessage(this: ReceiverHolder, data: Buffer | string, isBinary?: boolean): void {
  (this.recv as WebSocketReceiver).framedMessage(data, isBinary);
}

function onRawMessage(this: ReceiverHolder, data: Buffer | string, isBinary?: boolean): void {
  (this.recv as WebSocketReceiver).rawMessage(data, isBinary);
}

function onClose(this: ReceiverHolder, code?: number, reason?: Buffer): void {
  (this.recv as WebSocketReceiver).closed(code, reason);
}

// Socket errors (resets, protocol violations) end in 'close'; without a listener they would throw.
function onError(this: ReceiverHolder, err: Error): void {
  (this.recv as WebSocketReceiver).failed(err);
}

function messageText(data: Buffer | string, isBinary: boolean | undefined): string | null {
  if (typeof data === 'string') return data;
  // `ws` validates UTF-8 in text frames itself.
  if (isBinary === true && !isUtf8(data)) return null;
  return data.toString('utf8');
}

export function createWebSocketServer(maxPayload: number, compression: ResolvedCompression): WebSocketServer {
  // clientTracking off: sessions track their sockets; ws's own Set would double the bookkeeping.
  return new WebSocketServer({ noServer: true, clientTracking: false, perMessageDeflate: wsDeflateOptions(compression), maxPayload, WebSocket: SessionWebSocket });
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
    legacy.once('open', () => openSession(svc, req, legacy, null, raw, locals));
    return;
  }
  // The 101, the open frame and whatever the 'connection' listener writes leave in one write.
  socket.cork();
  svc.wss.handleUpgrade(req, socket, head, (ws) => openSession(svc, req, ws as SessionWebSocket, socket, raw, locals));
  socket.uncork();
}

function openSession(
  svc: Service,
  req: IncomingMessage,
  ws: (SessionWebSocket | Hixie76Socket) & ReceiverHolder,
  /** The socket under a `ws` WebSocket; null for hixie-76. */
  wire: Duplex | null,
  raw: boolean,
  locals: Record<string, unknown> | undefined,
): void {
  if (!svc.accepting) {
    // close() began while the handshake was under way.
    ws.close(1001, 'Server is shutting down');
    return;
  }
  const session = svc.createSession(req, null, raw ? 'websocket-raw' : 'websocket', locals);
  const socket = ws as unknown as MessageSocket;
  const recv = new WebSocketReceiver(svc, session, socket, wire);
  ws.recv = recv;
  const stats = svc.stats;
  stats.connectionsActive++;
  stats.connectionsTotal++;
  socket.on('message', raw ? onRawMessage : onFramedMessage);
  socket.on('close', onClose);
  socket.on('error', onError);
  if (wire !== null) quietRepeatEnds(ws, wire);
  session.attach(recv);
}
