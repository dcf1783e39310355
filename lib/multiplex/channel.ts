/**
 * The channel objects of `multiplex()`: a named Channel, and one client's subscription to it, a
 * ChannelConnection with the Connection API. The wire format and its frames are the
 * multiplexer's (lib/multiplex.ts); what it does to a channel goes through the functions at the end.
 */
import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import type { Connection, ConnectionEvents, RequestDetails } from '../connection.js';
import { forwardRequestDetails, toText } from '../connection.js';

/**
 * What a channel needs of the connection it rides on. `Connection`, a compat connection and a
 * channel connection itself all have this shape (so channels could even be nested).
 */
export interface ConnectionLike extends RequestDetails {
  readonly id: string;
  readonly readyState: number;
  write(message: string): boolean;
  close(code?: number, reason?: string): boolean;
  on(event: 'data', listener: (message: string) => void): unknown;
  on(event: 'close', listener: (code: number, reason: string) => void): unknown;
  on(event: 'drain', listener: () => void): unknown;
}

export interface ChannelEvents<C extends ConnectionLike = Connection> {
  /** A client subscribed to this channel. */
  connection: [ch: ChannelConnection<C>];
}

const OPEN = 1;
const CLOSED = 3;

/** Per underlying connection: its open channels by wire topic. */
export type Table<C extends ConnectionLike> = Map<string, ChannelConnection<C>>;

/** What the multiplexer may do to a channel without a public method: filled in once by ChannelConnection's static block (see the functions at the end). */
interface ChannelControl {
  finish<C extends ConnectionLike>(ch: ChannelConnection<C>, code: number, reason: string): void;
  drained<C extends ConnectionLike>(ch: ChannelConnection<C>): void;
}
const control = {} as ChannelControl;

/**
 * One client's subscription to one channel. It has the Connection API: write/close/end, readyState,
 * bufferedAmount, 'data'/'close'/'drain' events, and the opening request's details (headers,
 * remoteAddress, url, cookies, ...) taken from the underlying connection.
 */
// The opening request's details (protocol, url, headers, cookies, ...) and bufferedAmount read
// through to `connection`.
export interface ChannelConnection<C extends ConnectionLike = Connection> extends RequestDetails {}

export class ChannelConnection<C extends ConnectionLike = Connection> extends EventEmitter<ConnectionEvents> {
  /** A random id of this channel connection (not the underlying connection's). */
  readonly id: string = randomUUID();
  /** The underlying SockJS connection, shared with this client's other channels. */
  readonly connection: C;
  readonly #channel: Channel<C>;
  readonly #table: Table<C>;
  #open = true;
  #needDrain = false;

  static {
    control.finish = (ch, code, reason) => ch.#finish(code, reason);
    control.drained = (ch) => {
      if (!ch.#needDrain || !ch.#open) return;
      ch.#needDrain = false;
      ch.emit('drain');
    };
  }

  /** @internal Created by the multiplexer when a client subscribes. */
  constructor(connection: C, channel: Channel<C>, table: Table<C>) {
    super();
    this.connection = connection;
    this.#channel = channel;
    this.#table = table;
  }

  /** The channel's name as registered with `mux.channel(name)`. */
  get channel(): string {
    return this.#channel.name;
  }

  /** The name as it travels on the wire (escaped like the client library does). */
  get topic(): string {
    return this.#channel.topic;
  }

  /** 1 while subscribed, 3 once closed (by either side, or with the underlying connection). */
  get readyState(): 1 | 3 {
    return this.#open ? OPEN : CLOSED;
  }

  /**
   * Sends one message on this channel (`msg,<topic>,<message>`). Returns false when the channel is
   * closed, or when the underlying connection is over its high-water mark ('drain' follows).
   */
  write(message: string | Uint8Array | ArrayBuffer | number | boolean): boolean {
    if (!this.#open) return false;
    const ok = this.connection.write('msg,' + this.#channel.topic + ',' + toText(message));
    if (!ok && this.connection.readyState === OPEN) this.#needDrain = true;
    return ok;
  }

  /**
   * Closes this channel only: the client receives `uns,<topic>` (its channel fires 'close'); the
   * underlying connection and sibling channels stay open. Code and reason go to local 'close'
   * listeners only: the wire format has no room for them.
   */
  close(code = 3000, reason = 'Go away!'): boolean {
    if (!Number.isInteger(code) || code < 1000 || code > 4999) {
      throw new RangeError(`sockjs-express: close code must be an integer from 1000 to 4999 (got ${String(code)})`);
    }
    if (typeof reason !== 'string') {
      throw new TypeError(`sockjs-express: close reason must be a string (got ${typeof reason})`);
    }
    if (!this.#open) return false;
    if (this.connection.readyState === OPEN) this.connection.write('uns,' + this.#channel.topic);
    this.#finish(code, reason);
    return true;
  }

  /** Sends `message` if given, then closes the channel with the default code and reason. */
  end(message?: string | Uint8Array | ArrayBuffer | number | boolean): void {
    if (message !== undefined) this.write(message);
    this.close();
  }

  override toString(): string {
    return `<SockJSChannel ${this.#channel.name} ${this.id}>`;
  }

  #finish(code: number, reason: string): void {
    if (!this.#open) return;
    this.#open = false;
    if (this.#table.get(this.#channel.topic) === this) this.#table.delete(this.#channel.topic);
    (this.#channel.connections as Set<ChannelConnection<C>>).delete(this);
    this.emit('close', code, reason);
  }
}

forwardRequestDetails(ChannelConnection);

/** One named channel: emits a 'connection' per client subscription. */
export class Channel<C extends ConnectionLike = Connection> extends EventEmitter<ChannelEvents<C>> {
  /** The open subscriptions, live. */
  readonly connections: ReadonlySet<ChannelConnection<C>> = new Set<ChannelConnection<C>>();

  /** @internal Created by `mux.channel(name)`. */
  constructor(
    /** The name as registered. */
    readonly name: string,
    /** The name on the wire. */
    readonly topic: string,
  ) {
    super();
  }

  /** Sends one message to every subscriber of this channel (on this process); returns how many took it. */
  broadcast(message: string, options?: { except?: ChannelConnection<C> | Iterable<ChannelConnection<C>> }): number {
    if (typeof message !== 'string') throw new TypeError('sockjs-express: broadcast(message) takes a string');
    const e = options?.except;
    const except = e === undefined ? null : e instanceof ChannelConnection ? new Set([e]) : new Set(e);
    let sent = 0;
    for (const ch of [...this.connections]) {
      if (except !== null && except.has(ch)) continue;
      if (ch.write(message)) sent++;
    }
    return sent;
  }

  override toString(): string {
    return `<SockJSChannel ${this.name}>`;
  }
}

/** A client subscribed to `channel` on `conn`: its channel connection, announced to the channel's listeners. */
export function subscribe<C extends ConnectionLike>(conn: C, channel: Channel<C>, table: Table<C>): void {
  const ch = new ChannelConnection<C>(conn, channel, table);
  table.set(channel.topic, ch);
  (channel.connections as Set<ChannelConnection<C>>).add(ch);
  channel.emit('connection', ch);
}

/** Ends a channel connection without telling the client (it unsubscribed, resubscribed, or its connection closed). */
export function finishChannel<C extends ConnectionLike>(ch: ChannelConnection<C>, code: number, reason: string): void {
  control.finish(ch, code, reason);
}

/** The underlying connection drained: a channel whose write returned false gets its 'drain'. */
export function channelDrained<C extends ConnectionLike>(ch: ChannelConnection<C>): void {
  control.drained(ch);
}
