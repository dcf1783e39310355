// A lean websocket session for the load generator, on `ws`. Three flavours:
//  - 'sockjs': /<prefix>/<server>/<session>/websocket, SockJS frames (o, a[...], h, c[...]);
//  - 'raw':    /<prefix>/websocket, plain messages (SockJS servers' raw endpoint);
//  - 'plain':  the raw `ws` server, plain messages on /<prefix>;
//  - 'sio':    socket.io 4 spoken directly (Engine.IO 4 over a websocket, no socket.io-client):
//              open `0{...}` answered with `40`, connected at `40{...}`, events as `42[...]`,
//              pings `2` answered `3`. onData sees event packets only.
import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import { clientFrame } from './rawws.mjs';
import { HOST, countMessages, countStrings, sessionPath } from './util.mjs';

const WS_OPTIONS = { perMessageDeflate: false, skipUTF8Validation: true, maxPayload: 64 * 1024 * 1024 };
const CH_A = 0x61; // 'a'
const CH_O = 0x6f; // 'o'
const CH_C = 0x63; // 'c'

// The echo scenarios send the same payload over and over: its client frame (header, masking key,
// masked payload) is built once, with a random non-zero key, and its bytes are sent again each
// time. Servers unmask every frame as they would a browser's (`ws` skips that only for an
// all-zero key), while the load generator spends nothing on masking 4 KB payloads.
const maskedFrames = new WeakMap();
function maskedFrame(payload) {
  let frame = maskedFrames.get(payload);
  if (frame !== undefined) return frame;
  let key;
  do key = randomBytes(4);
  while ((key[0] | key[1] | key[2] | key[3]) === 0);
  frame = clientFrame(1, payload, key);
  maskedFrames.set(payload, frame);
  return frame;
}

/** Which flavour a scenario uses on a given server: the plain ws server has only one. */
export function flavour(serverKind, raw) {
  if (serverKind === 'ws') return 'plain';
  if (serverKind === 'sio') return 'sio';
  return raw ? 'raw' : 'sockjs';
}

/** The websocket URL of a session; `recovery` asks a SockJS server for it (docs/recovery.md). */
export function wsUrl(port, prefix, kind, recovery = false) {
  if (kind === 'sio') return `ws://${HOST}:${port}/socket.io/?EIO=4&transport=websocket`;
  if (kind === 'plain') return `ws://${HOST}:${port}/${prefix}`;
  if (kind === 'raw') return `ws://${HOST}:${port}/${prefix}/websocket`;
  return `ws://${HOST}:${port}/${prefix}/${sessionPath()}/websocket${recovery ? '?sockjs-recovery=1&sockjs-recovery-new=1' : ''}`;
}

// The recovery wire, version 1 (docs/recovery.md), as much as a client that never reconnects
// needs: control messages start with U+0000; the URL holds a new connection's hello (wsUrl), so
// `ready` says `new` and the `welcome` follows (a server that did not take it gets the `hello`);
// take the welcome as the open, and acknowledge at the cadence it asks for (`ack` messages or
// `ack_chars` characters), as the companion client does (the server drops confirmed messages
// from its replay buffer).
const MARK = '\u0000';
const HELLO = JSON.stringify([MARK + '{"t":"hello","v":1}']);
const CLOSE = JSON.stringify([MARK + '{"t":"close","code":1000,"reason":"Normal closure"}']);
const ackFrame = (n) => JSON.stringify([`${MARK}{"t":"ack","recv":${n}}`]);
const NUL_ESCAPE = Buffer.from('\\u0000');

export class Sock {
  /**
   * @param {string} url
   * @param {'sockjs'|'raw'|'plain'} kind
   * @param {(data: Buffer, n: number) => void} [onData] called per received frame with its message count
   */
  constructor(url, kind, onData = null, { recovery = false, deflate = false } = {}) {
    this.kind = kind;
    this.framed = kind === 'sockjs';
    this.onData = onData;
    // Quote characters per message in a data frame (countMessages): 2, plus the payload's own
    // quotes (each escaped as \", one 0x22 still) when a scenario sends JSON text.
    this.quotesPerMessage = 2;
    // Count any JSON strings exactly (countStrings), as recovery sessions always do.
    this.exact = false;
    this.recovery = recovery && this.framed;
    this.received = 0;
    this.acked = 0;
    this.ackEvery = 32;
    this.ackChars = Infinity;
    this.chars = 0;
    this.closeFrame = null;
    this.error = null;
    this.ws = new WebSocket(url, deflate ? { ...WS_OPTIONS, perMessageDeflate: true } : WS_OPTIONS);
    this.closed = new Promise((resolve) => this.ws.once('close', resolve));
    this.ready = new Promise((resolve, reject) => {
      this._resolve = resolve;
      this._reject = reject;
    });
    this.ready.catch(() => {}); // awaited by the scenario; never an unhandled rejection
    this.ws.on('error', (err) => {
      this.error = err;
      this._reject(err);
    });
    this.ws.on('close', () => this._reject(new Error('closed before open')));
    if (kind === 'sio') {
      this.ws.on('message', (data) => {
        const c = data[0];
        if (c === 0x34) { // '4': a socket.io packet
          const t = data[1];
          if (t === 0x32) { // '2': event
            if (this.onData !== null) this.onData(data, 1);
          } else if (t === 0x30) this._resolve(this); // '0': connected to the namespace
          else this.closeFrame = data.toString(); // '1' disconnect, '4' connect error
        } else if (c === 0x30) this.ws.send('40'); // Engine.IO open: connect to '/'
        else if (c === 0x32) this.ws.send('3'); // ping
      });
    } else if (this.recovery) {
      this.ws.on('message', (data) => this._recoveryFrame(data));
    } else if (this.framed) {
      this.ws.on('message', (data) => {
        const c = data[0];
        if (c === CH_A) {
          if (this.onData !== null) this.onData(data, this.exact ? countStrings(data) : countMessages(data, this.quotesPerMessage));
        } else if (c === CH_O) {
          this._resolve(this);
        } else if (c === CH_C) {
          this.closeFrame = data.toString();
        }
        // 'h' (heartbeat) carries nothing.
      });
    } else {
      this.ws.on('open', () => this._resolve(this));
      this.ws.on('message', (data) => {
        if (this.onData !== null) this.onData(data, 1);
      });
    }
  }

  /**
   * A SockJS frame of a recovery session: control messages handled here, application messages
   * (unescaped) passed on as a data frame of their own, so that scenarios read them as usual.
   */
  _recoveryFrame(data) {
    const c = data[0];
    if (c === CH_C) this.closeFrame = data.toString();
    if (c !== CH_A) return; // 'o' opens the SockJS session; recovery's open is the welcome
    // No U+0000 (JSON writes it as \u0000): application messages only, read as a plain session's
    // are, so that the load generator spends no more per message than for ours (a slower client
    // makes the server's batches smaller, and its CPU per delivery larger).
    if (data.indexOf(NUL_ESCAPE) === -1) {
      // Exactly: an ack for more than the server wrote is ignored, and its buffer stays full.
      const n = countStrings(data);
      this._received(n, data.length);
      if (this.onData !== null) this.onData(data, n);
      return;
    }
    const app = [];
    for (const m of JSON.parse(data.toString('utf8', 1))) {
      if (m.charCodeAt(0) !== 0) app.push(m);
      else if (m.charCodeAt(1) === 0) app.push(m.slice(1));
      else {
        const c = JSON.parse(m.slice(1));
        // A server that took the URL's hello says so in its ready (`new`), and the welcome follows.
        if (c.t === 'ready') {
          if (c.new !== true) this.ws.send(HELLO);
        } else if (c.t === 'welcome') {
          if (c.ack > 0) this.ackEvery = c.ack;
          if (c.ack_chars > 0) this.ackChars = c.ack_chars;
          this._resolve(this);
        } else if (c.t === 'close') this.closeFrame = m;
      }
    }
    if (app.length === 0) return;
    this._received(app.length, data.length);
    if (this.onData !== null) this.onData(Buffer.from('a' + JSON.stringify(app)), app.length);
  }

  /** `n` more application messages in a frame of `bytes`: an ack when the cadence is reached. */
  _received(n, bytes) {
    this.received += n;
    this.chars += bytes;
    if (this.received - this.acked >= this.ackEvery || this.chars >= this.ackChars) this._ack();
  }

  /** Acknowledges what arrived and was not acknowledged yet (recovery sessions only). */
  ackNow() {
    if (this.recovery && this.received !== this.acked) this._ack();
  }

  _ack() {
    this.ws.send(ackFrame(this.received));
    this.acked = this.received;
    this.chars = 0;
  }

  /** Sends one already-encoded frame (a JSON array for 'sockjs', the message itself otherwise). */
  send(bytes) {
    this.ws.send(bytes, { binary: false });
  }

  /** Sends `n` copies of a payload in one socket write (one syscall instead of n). */
  sendMany(bytes, n) {
    const sock = this.ws._socket;
    if (this.ws.readyState !== WebSocket.OPEN || !sock) return;
    const frame = maskedFrame(bytes);
    if (n > 1) sock.cork();
    for (let i = 0; i < n; i++) sock.write(frame);
    if (n > 1) sock.uncork();
  }

  /** Sends the next `n` of `frames` (a session goes through them in turn) in one socket write. */
  sendRotating(frames, n) {
    const sock = this.ws._socket;
    if (this.ws.readyState !== WebSocket.OPEN || !sock) return;
    this.turn ??= 0;
    if (n > 1) sock.cork();
    for (let i = 0; i < n; i++) {
      sock.write(maskedFrame(frames[this.turn]));
      this.turn = (this.turn + 1) % frames.length;
    }
    if (n > 1) sock.uncork();
  }

  /** Closes on purpose; a recovery session first says so, as the companion client does (no resume follows). */
  close() {
    if (this.recovery && this.ws.readyState === WebSocket.OPEN) this.ws.send(CLOSE);
    this.ws.close();
    return this.closed;
  }

  terminate() {
    this.ws.terminate();
  }
}

/** Opens `total` sessions, `concurrency` handshakes at a time; rejects on the first failure. */
export async function openSocks(total, concurrency, make) {
  const socks = new Array(total);
  let next = 0;
  async function lane() {
    while (next < total) {
      const i = next++;
      const s = make(i);
      socks[i] = s;
      await s.ready;
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, total) }, lane));
  return socks;
}
