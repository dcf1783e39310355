/**
 * A recoverable connection: what the application's Connection drives when the client speaks
 * recovery. It outlives the client's SockJS sessions (its carriers), whose flushed frames go to
 * its replay buffer; when one goes it waits `window_ms` for the client to resume on a new one.
 */
import { OPEN, CLOSED, type CloseCause, type ReadyState } from '../session/session.js';
import type { SharedFrame } from '../protocol/shared-frame.js';
import { quote } from '../protocol/frames.js';
import type { Connection } from '../connection.js';
import type { Service } from '../service.js';
import { appMessages, ReplayBuffer } from './buffer.js';
import type { Carrier } from './carrier.js';
import type { Recovery } from './recovery.js';
import type { LogState } from './log-state.js';
import type { RemoteRecovery } from './remote.js';
import { ACK_EVERY, batchStart, control, count, parseControl, quotedStartsWithNul, unescapeApp, type ControlMessage, type HelloMessage, type RefusalReason } from './wire.js';
import { welcomeMessage } from './welcome.js';

/** A control message that is malformed, or not one a client sends (docs/recovery.md, wire format 10). */
function bad(carrier: Carrier): void {
  carrier.close(3400, 'Bad recovery message', 'client');
}

function onWindowEnd(link: Link): void {
  link.close(1006, 'Session timed out', 'timeout');
}

export class Link {
  state: ReadyState = OPEN;
  /** Set by the service right after it makes the connection. */
  conn!: Connection;
  /** The session carrying the link now; null while parked. */
  carrier: Carrier | null;
  /** Before the client's hello: the connection is not open for the application yet. */
  pending = true;
  /** The lookup half of the resume credential (recovery.ts finds the link by it). */
  key = '';
  /** The secret half (base64url), '' before the first welcome. */
  secret = '';
  /** The secret before the last welcome, good until the client shows it has the new one (recovery.ts). */
  previous: string | null = null;
  readonly out: ReplayBuffer;
  /** Client messages delivered to the application. */
  received = 0;
  /** `received` when the server last acknowledged. */
  private acked = 0;
  /** The last welcome's credential is not known to have reached the client (recovery.ts). */
  unconfirmedToken = false;
  /** That welcome, quoted, when the carrier's receivers can come back (HTTP): Carrier.attach sends it again. */
  welcomeAgain: string | null = null;
  /** Messages the client confirmed having. */
  confirmed = 0;
  /** Messages the last checkpoint (or welcome) said went before it. */
  private checked = 0;
  /** The window timer, while parked. */
  private timer: NodeJS.Timeout | null = null;
  /** The recovery version agreed with the client (its hello's, at most ours). */
  version = 1;
  /** A hello is being looked up on other processes (lib/recovery/remote.ts): later ones are repeats. */
  resuming = false;
  /** Cross-process recovery (remote.ts), for clients of version 2 when the service has a store: markers are sent and kept. */
  log: LogState | null = null;

  constructor(
    readonly host: Service,
    private readonly recovery: Recovery,
    carrier: Carrier,
    /** The opening transport (stats index), counted against for as long as the connection lives. */
    readonly transport: number,
  ) {
    this.carrier = carrier;
    this.out = new ReplayBuffer(recovery.options.max_messages, recovery.options.max_bytes);
  }

  /** Framed: a broadcast shares its frame with the link (a getter, not a field per link). */
  get raw(): boolean {
    return false;
  }

  get bufferedAmount(): number {
    return this.carrier !== null ? this.carrier.bufferedAmount : 0;
  }

  // ---- outbound (ConnectionSession) --------------------------------------------------------

  write(message: string): boolean {
    return this.send(quote(message), null);
  }

  /** A broadcast or room send: the carrier can share its frame with the other members'. */
  sendShared(message: SharedFrame): boolean {
    return this.send(message.quoted, message);
  }

  private send(quoted: string, shared: SharedFrame | null): boolean {
    if (this.state !== OPEN) return false;
    // A message starting with U+0000 (quoted: "\u0000) gets one more, so it is not read as control.
    if (quotedStartsWithNul(quoted)) {
      quoted = '"\\u0000' + quoted.slice(1);
      shared = null;
    }
    const mark = this.log !== null ? this.remote!.markFor(this) : '';
    const carrier = this.carrier;
    if (carrier !== null) {
      // Kept when the carrier flushes (Carrier.flush), with the marker in the same frame.
      if (mark !== '') carrier.queueMarker(mark);
      return shared !== null ? carrier.sendShared(shared) : carrier.sendQuoted(quoted);
    }
    this.out.keep(mark !== '' ? [mark, quoted] : [quoted]);
    if (this.out.first > this.confirmed) {
      // The buffer let go of a message the client has not got: resuming can only fail now.
      this.close(1006, 'Recovery buffer full', 'limit');
      return false;
    }
    return true;
  }

  /** A control message to the client, over the current carrier (not kept for replay); returns it quoted. */
  tell(message: ControlMessage): string {
    const quoted = quote(control(message));
    this.carrier?.sendQuoted(quoted);
    return quoted;
  }

  get remote(): RemoteRecovery | null {
    return this.recovery.remote;
  }

  /** The application joined or left a room (Connection). */
  roomsChanged(): void {
    if (this.log !== null && this.state === OPEN) this.remote!.roomsChanged(this);
  }

  /** Where room sends go (Connection.outlet): the carrier while one is attached and no markers are due, else the link. */
  route(): void {
    const carrier = this.carrier;
    this.conn.outlet = carrier !== null && this.state === OPEN && !this.pending && this.log === null ? carrier : this;
  }

  /** Application messages sent so far: kept, or waiting in the carrier's queue. */
  get sent(): number {
    return this.out.written + (this.carrier !== null ? appMessages(this.carrier.outbox.contents()) : 0);
  }

  /** The checkpoint a returning receiver gets first (Carrier.attach), when messages went out since the last one. */
  checkpoint(): string | null {
    const sent = this.out.written;
    if (sent === this.checked) return null;
    this.checked = sent;
    return quote(control({ t: 'ack', recv: this.received, sent }));
  }

  // ---- inbound -----------------------------------------------------------------------------

  /** One message from the client over `carrier`. */
  receive(message: string, carrier: Carrier): void {
    let msg: ControlMessage | null = null;
    if (message.charCodeAt(0) === 0 && message.charCodeAt(1) !== 0) {
      msg = parseControl(message);
      if (msg === null) return bad(carrier);
      if (msg.t === 'hello') return this.hello(carrier, msg);
    }
    if (this.pending) {
      carrier.close(3400, 'Recovery hello expected', 'client');
      return;
    }
    if (this.unconfirmedToken) this.recovery.confirmed(this);
    if (msg === null) this.deliver(unescapeApp(message));
    else this.receiveControl(msg, carrier);
  }

  /** A control message from the client (after its hello). */
  private receiveControl(msg: ControlMessage, carrier: Carrier): void {
    if (msg.t === 'ack') {
      const recv = count(msg.recv);
      if (recv === undefined) return bad(carrier);
      this.confirm(recv);
      if (msg.probe === true) this.tell({ t: 'ack', recv: this.received, sent: this.sent });
    } else if (msg.t === 'close') {
      // The client closed on purpose: no resume will come.
      this.close(1000, 'Closed by the client', 'client');
    } else if (msg.t === 'b') {
      const from = batchStart(msg, this.received);
      if (from < 0) return bad(carrier);
      const list: readonly unknown[] = msg.m;
      for (let i = from; i < list.length && this.state === OPEN && this.carrier === carrier; i++) {
        const m = list[i];
        this.deliver(typeof m === 'string' ? m : String(m));
      }
    } else bad(carrier); // ready, welcome and the markers go from server to client only
  }

  /**
   * The client's hello: a message, or the URL of a new connection's websocket. Only the first
   * counts: a second is a POST the browser sent twice, or the answer to a `ready` sent again (it
   * says nothing about the welcome, which may yet be lost).
   */
  hello(carrier: Carrier, msg: HelloMessage): void {
    if (this.pending && !this.resuming) this.recovery.hello(this, carrier, msg);
  }

  private deliver(message: string): void {
    this.received++;
    this.conn.emit('data', message);
    if (this.received - this.acked >= ACK_EVERY && this.state === OPEN) this.ack();
  }

  /** Tells the client how many of its messages were delivered (with a checkpoint). */
  ack(): void {
    if (this.received === this.acked || this.carrier === null || this.pending) return;
    this.acked = this.received;
    this.tell({ t: 'ack', recv: this.received, sent: this.sent });
  }

  private confirm(n: number): void {
    if (n > this.out.written) return;
    if (n > this.confirmed) this.confirmed = n;
    this.out.confirm(n);
  }

  // ---- life cycle --------------------------------------------------------------------------

  /** The client's hello opened this link as a new connection. */
  openNew(token: string, reason?: RefusalReason): void {
    this.pending = false;
    this.route();
    this.welcome(token, false, reason);
    this.host.connectionOpened(this.conn, this.transport);
  }

  /** The client resumed this link on `carrier`, having received `recv` messages. */
  resume(carrier: Carrier, recv: number, token: string): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.recovery.unpark(this);
    const previous = this.carrier;
    if (previous !== null && previous !== carrier) {
      // A session the server had not yet seen go: what it had not sent goes on the new one.
      previous.handUnsent(this.out, true);
      previous.carry(null);
      previous.close(3001, 'Resumed on another session');
    }
    this.carrier = carrier;
    carrier.carry(this);
    carrier.connection = this.conn;
    this.route();
    this.confirm(recv);
    const replayed = this.out.written - recv;
    const replay = this.out.rewind(recv);
    this.welcome(token, true);
    for (const q of replay) carrier.sendQuoted(q);
    this.conn.emit('resume', { moved: false, replayed, resent: 0, directMayBeLost: false });
  }

  /** The welcome, when the buffer counts what the client has: a frame lost with it (a replay, first writes) shows at the next checkpoint. */
  welcome(token: string, recovered: boolean, reason?: RefusalReason, moved?: { moved: true; direct: boolean }): void {
    this.acked = this.received;
    this.checked = this.out.written;
    const quoted = this.tell(welcomeMessage(this, this.recovery, token, recovered, reason, moved));
    // sockjs-client polls again in the same session after a poll the network dropped, and the
    // welcome may have gone with it (a websocket session has one receiver only).
    this.welcomeAgain = this.carrier !== null && this.carrier.sessionId !== null ? quoted : null;
  }

  /** The carrier's SockJS session ended. Unless the link itself closed it, the link waits for the client. */
  carrierClosed(carrier: Carrier, cause: CloseCause): void {
    if (this.carrier !== carrier || this.state !== OPEN) return;
    // What it had not sent, a parked link replays; on shutdown the session sends it before its close frame.
    const parks = !this.pending && cause !== 'shutdown';
    carrier.handUnsent(this.out, parks);
    this.carrier = null;
    this.route();
    if (!parks) {
      this.close(carrier.closeCode, carrier.closeReason, cause);
      return;
    }
    this.timer = setTimeout(onWindowEnd, this.recovery.options.window_ms, this);
    this.timer.unref();
    this.recovery.park(this);
  }

  /** Ends the connection for good: by the application, the server's shutdown, the window, or the buffer. */
  close(code: number, reason: string, cause: CloseCause = 'server'): boolean {
    if (this.state !== OPEN) return false;
    const carrier = this.carrier;
    // The client is told not to resume; on shutdown it may, elsewhere or after a restart.
    if (carrier !== null && !this.pending && cause !== 'shutdown') this.tell({ t: 'close', code, reason });
    this.state = CLOSED;
    this.route();
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.recovery.forget(this, cause === 'shutdown');
    if (!this.pending) this.host.connectionClosed(this.conn, this.transport, cause, code);
    if (carrier !== null) carrier.close(code, reason, cause);
    if (!this.pending) this.conn.emit('close', code, reason);
    return true;
  }
}
