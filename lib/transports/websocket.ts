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
import { echoPayloadOf, rememberDecoded } from '../protocol/frames.js';
import { EncodedFrameCache } from '../protocol/encoded.js';
import { sendError } from '../http/respond.js';
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
// ws.send(data, TEXT) spreads TEXT into a literal of its defaults, and a key already there is
// defined through V8's runtime: about 1.3 µs of every message sent (perf, 100 sessions at 10k
// msg/s). `ws`'s frame writer (its WebSocket#_sender, ws 8) takes these finished options.
const TEXT_FRAME = { binary: false, compress: false, fin: true, mask: false };
// The same, deflated: for frames of `compression.threshold` bytes or more on a socket that
// negotiated permessage-deflate.
const DEFLATED_FRAME = { binary: false, compress: true, fin: true, mask: false };

/** `ws`'s frame writer: what ws.send() ends in once it has checked the state and built options. */
interface FrameSender {
  send(data: string | Buffer, options: typeof TEXT_FRAME, cb?: (err?: Error | null) => void): void;
}

function frameSenderOf(ws: MessageSocket): FrameSender | null {
  const sender = (ws as { _sender?: Partial<FrameSender> | null })._sender;
  return typeof sender?.send === 'function' ? (sender as FrameSender) : null;
}

// What a frame or raw message goes to `ws` as. Below 4 KiB as a Buffer that Buffer.from() slices
// from Node's shared pool: a string would cost a native allocation in the socket write. From
// 4 KiB on as the string itself: a Buffer of its own costs more than the write's native copy.
// A broadcast's shared frame is encoded once, for every session, whatever its size.
const POOLED = 4096;
const sharedFrames = new EncodedFrameCache((frame) => frame);

function frameData(frame: string): string | Buffer {
  const shared = sharedFrames.shared(frame);
  if (shared !== null) return shared;
  // Under a third of POOLED characters is under POOLED bytes: no byte count needed first.
  if (frame.length < POOLED / 3 || (frame.length < POOLED && Buffer.byteLength(frame) < POOLED)) return Buffer.from(frame);
  return frame;
}

const OPEN = WebSocket.OPEN;
const ECHO_PREFIX = Buffer.from('a');

/**
 * The header of an unmasked final text frame of `length` payload bytes (RFC 6455 §5.2), followed
 * by `a`: with the received bytes after it, the echo frame. Sent in two writes, the bytes are not
 * copied into a new buffer: a 4 KB+ Buffer of its own is allocated outside Node's pool, and its
 * malloc on this thread and free on V8's sweeper thread contended for the allocator's lock (a
 * futex per message in a profile of 100 sessions echoing 4 KB).
 */
function echoHeader(length: number): Buffer {
  const long = length > 0xffff;
  const head = Buffer.allocUnsafe(long ? 11 : 5);
  head[0] = 0x81;
  if (long) {
    head[1] = 127;
    head.writeUInt32BE(0, 2);
    head.writeUInt32BE(length, 6);
  } else {
    head[1] = 126;
    head.writeUInt16BE(length, 2);
  }
  head[head.length - 1] = 0x61;
  return head;
}

// A raw websocket message as it arrived, text and bytes: echo and relay handlers send back the
// text they were handed, and those bytes then go out as they came, without encoding them again.
let relayText: string | null = null;
let relayBytes: Buffer = Buffer.alloc(0);

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
  /**
   * Frames may be written to the socket directly, around `ws` (the long echo). Not on a
   * compressed socket: `ws` queues frames while zlib works, and a direct write would pass them.
   */
  private readonly direct: boolean;

  constructor(
    private readonly svc: Service,
    private readonly session: Session,
    private readonly ws: MessageSocket,
    /** hixie-76 sockets take text only. */
    private readonly legacy: boolean,
    /** The socket `ws` runs on (null for hixie-76): long echoes are written to it directly. */
    private readonly socket: Duplex | null,
  ) {
    this.sender = legacy ? null : frameSenderOf(ws);
    const threshold = svc.options.compression?.threshold;
    const deflated = !legacy && threshold !== undefined && (ws as { extensions?: string }).extensions?.includes('permessage-deflate') === true;
    this.deflateFrom = deflated ? threshold : Infinity;
    this.direct = socket !== null && !deflated;
  }

  get streams(): boolean {
    return true;
  }

  get cheapFrames(): boolean {
    return true;
  }

  sendFrame(frame: string): boolean {
    const data = this.legacy ? frame : frameData(frame);
    if (typeof data !== 'string') {
      this.write(data, data.length);
      return true;
    }
    // An echo of the long message just received: `a` + the bytes it came in, with no encoding.
    const echo = this.direct ? echoPayloadOf(data) : null;
    if (echo !== null) this.writeEcho(echo);
    else this.write(data, Buffer.byteLength(data));
    return true;
  }

  sendRaw(message: string): void {
    // Content comparison when not the same string; unequal lengths fail at once.
    if (message === relayText && this.direct) {
      this.write(relayBytes, relayBytes.length);
      return;
    }
    const n = Buffer.byteLength(message);
    this.write(this.legacy || n >= POOLED ? message : Buffer.from(message), n);
  }

  ping(): void {
    // hixie-76 has no ping frame.
    this.ws.ping?.();
  }

  heardBytes(): number {
    // hixie-76 has no ping for a live peer to answer: its silence tells nothing.
    const read = this.legacy ? undefined : (this.socket as { bytesRead?: unknown } | null)?.bytesRead;
    return typeof read === 'number' ? read : -1;
  }

  /** Counts the bytes going out; the completion callback, only while a drain is owed (no per-message closure otherwise). */
  private sending(bytes: number): (() => void) | undefined {
    const session = this.session;
    session.host.stats.bytesOut[session.transport] += bytes;
    return session.needDrain ? (this.onWritten ??= () => session.drainCheck()) : undefined;
  }

  private write(data: string | Buffer, bytes: number): void {
    const done = this.sending(bytes);
    const sender = this.sender;
    // Not open (closing): ws.send() answers that itself, as for any late write.
    if (sender !== null && this.ws.readyState === WebSocket.OPEN) sender.send(data, bytes >= this.deflateFrom ? DEFLATED_FRAME : TEXT_FRAME, done);
    else if (this.legacy) this.ws.send(data, undefined, done);
    else this.ws.send(data, TEXT, done);
  }

  /**
   * `a` + `payload` as one websocket frame, written to the socket `ws` runs on. Safe beside `ws`'s
   * own writes: each is a whole frame, written at once; `ws` queues frames only for compression
   * (never used on compressed sockets: see `direct`); once it began closing, `ws` itself refuses the data, as for any other frame.
   */
  private writeEcho(payload: Buffer): void {
    const socket = this.socket;
    const bytes = payload.length + 1;
    if (socket === null || this.ws.readyState !== OPEN) {
      this.write(Buffer.concat([ECHO_PREFIX, payload], bytes), bytes);
      return;
    }
    const done = this.sending(bytes);
    socket.cork();
    socket.write(echoHeader(bytes));
    socket.write(payload, done);
    socket.uncork();
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
        // The bytes matter only to a long message's echo (see frames.ts).
        rememberDecoded(one, null, scannedAscii, data.length > SCAN_MAX ? data : null);
        session.deliverOne(one, data.length);
        return;
      }
    }
    // `ws` has checked the UTF-8 of text frames.
    const text = typeof data === 'string' ? data : data.toString('utf8');
    // Empty frames carry nothing; clients send them as keepalives.
    if (text === '') return;
    let messages: string[];
    try {
      messages = decodeMessages(text, typeof data === 'string' ? null : data);
    } catch (err) {
      if (!(err instanceof PayloadError)) throw err;
      session.abort(1002, 'Broken framing.', 'client');
      return;
    }
    session.deliver(messages, typeof data === 'string' ? Buffer.byteLength(data) : data.length);
  }

  /** A raw websocket message: the message itself. */
  rawMessage(data: Buffer | string, isBinary: boolean | undefined): void {
    const text = messageText(data, isBinary);
    if (text === null) {
      this.ws.close(1007, 'Message is not valid UTF-8');
      return;
    }
    if (typeof data === 'string') {
      this.session.deliverOne(text, Buffer.byteLength(data));
      return;
    }
    relayText = text;
    relayBytes = data;
    this.session.deliverOne(text, data.length);
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
      this.svc.log('debug', 'websocket error: ' + err.message, { session_id: session.connection!.id, transport: session.raw ? 'websocket-raw' : 'websocket' });
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

// Up to this size a payload is scanned here byte by byte; longer ones by native searches and a
// scan four bytes at a time (see plainLong).
const SCAN_MAX = 256;

// Whether the last message plainSingle() returned is all ASCII.
let scannedAscii = false;

/**
 * The message of a payload that is exactly `["<text>"]`, text without `"`, `\` or control
 * characters, or null: decoded once, where JSON.parse would decode, copy, and build an array.
 * `ws` has checked the UTF-8 of text frames, so any other byte is part of a valid character.
 */
function plainSingle(data: Buffer): string | null {
  const n = data.length;
  if (n < 4 || data[0] !== 0x5b || data[1] !== 0x22 || data[n - 2] !== 0x22 || data[n - 1] !== 0x5d) return null;
  if (n > SCAN_MAX) return plainLong(data, n);
  let bits = 0;
  for (let i = 2; i < n - 2; i++) {
    const c = data[i]!;
    if (c < 0x20 || c === 0x22 || c === 0x5c) return null;
    bits |= c;
  }
  scannedAscii = bits < 0x80;
  return data.toString('utf8', 2, n - 2);
}

// For 4 KB, a third less CPU than decoding the whole payload and JSON.parse (which scans, then
// copies the text out of it): the text is decoded once, straight from the bytes.
function plainLong(data: Buffer, n: number): string | null {
  if (data.indexOf(0x22, 2) !== n - 2 || data.indexOf(0x5c, 2) !== -1 || hasControlByte(data, 2, n - 2)) return null;
  const message = data.toString('utf8', 2, n - 2);
  scannedAscii = message.length === n - 4;
  return message;
}

/** Whether a byte in data[from, to) is below 0x20. */
function hasControlByte(data: Buffer, from: number, to: number): boolean {
  let i = from;
  // Byte by byte up to a 4-byte boundary in memory: a typed array view must start on one.
  while (i < to && ((data.byteOffset + i) & 3) !== 0) if (data[i++]! < 0x20) return true;
  const words = (to - i) >>> 2;
  if (words > 0) {
    const w32 = new Int32Array(data.buffer, data.byteOffset + i, words);
    // (w - 0x20202020) & ~w has a byte's top bit set when that byte, or one below it in the
    // word, is under 0x20: exact as to whether any is (the word test for a zero byte, shifted).
    // Four words a turn: a quarter less time per 4 KB than one (loop overhead, not the test).
    let acc = 0;
    let k = 0;
    for (; k + 4 <= words; k += 4) {
      const w0 = w32[k]!;
      const w1 = w32[k + 1]!;
      const w2 = w32[k + 2]!;
      const w3 = w32[k + 3]!;
      acc |= ((w0 - 0x20202020) & ~w0) | ((w1 - 0x20202020) & ~w1) | ((w2 - 0x20202020) & ~w2) | ((w3 - 0x20202020) & ~w3);
    }
    for (; k < words; k++) {
      const w = w32[k]!;
      acc |= (w - 0x20202020) & ~w;
    }
    if ((acc & 0x80808080) !== 0) return true;
    i += words << 2;
  }
  while (i < to) if (data[i++]! < 0x20) return true;
  return false;
}

/** A raw websocket message as text: binary frames are taken as text when they are valid UTF-8. */
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
  svc.wss.handleUpgrade(req, socket, head, (ws) => openSession(svc, req, ws as SessionWebSocket, socket, raw, locals));
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
  const recv = new WebSocketReceiver(svc, session, socket, wire === null, wire);
  ws.recv = recv;
  const stats = svc.stats;
  stats.connectionsActive++;
  stats.connectionsTotal++;
  socket.on('message', raw ? onRawMessage : onFramedMessage);
  socket.on('close', onClose);
  socket.on('error', onError);
  session.attach(recv);
}
