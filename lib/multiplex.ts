/**
 * Channels over one SockJS connection: the server side of the `websocket-multiplex` wire format.
 *
 *   client → server   sub,<topic>   msg,<topic>,<payload>   uns,<topic>
 *   server → client   msg,<topic>,<payload>   uns,<topic>
 *
 * Only the first two commas split a frame, so payloads keep theirs. The client library escapes
 * channel names with `escape()`, so topics never contain commas; `channel(name)` registers the
 * escaped form for the same reason. Each channel connection behaves like a Connection of its own.
 *
 *   const mux = multiplex(router);
 *   mux.channel('chat').on('connection', (ch) => ch.on('data', (m) => ch.write(m)));
 */
import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import type { Connection, ConnectionEvents, RequestDetails } from './connection.js';
import type { SockJSRouter } from './router.js';
import { forwardRequestDetails, toText } from './connection.js';

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

/** Anything that emits connections: a SockJSRouter, a compat server, a Channel. */
export interface ConnectionSource<C extends ConnectionLike> {
  on(event: 'connection', listener: (conn: C) => void): unknown;
}

export interface MultiplexOptions {
  /** Channels one connection may have open at once; a `sub` beyond is answered with `uns`. Default 64. */
  max_channels?: number;
}

export interface ChannelEvents<C extends ConnectionLike = Connection> {
  /** A client subscribed to this channel. */
  connection: [ch: ChannelConnection<C>];
}

const OPEN = 1;
const CLOSED = 3;
const COMMA = 44;

/** Per underlying connection: its open channels by wire topic. */
type Table<C extends ConnectionLike> = Map<string, ChannelConnection<C>>;

/** What the multiplexer may do to a channel without a public method: filled in once by ChannelConnection's static block. */
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

function checkMax(options: MultiplexOptions | undefined): number {
  if (options === undefined || options === null) return 64;
  if (typeof options !== 'object') throw new TypeError(`sockjs-express: multiplex options must be an object (got ${typeof options})`);
  for (const key of Object.keys(options)) {
    if (key !== 'max_channels') throw new TypeError(`sockjs-express: unknown multiplex option "${key}"; the known option is max_channels`);
  }
  const v = options.max_channels;
  if (v === undefined) return 64;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 65_536) {
    throw new TypeError(`sockjs-express: option "max_channels" must be an integer from 1 to 65536 (got ${String(v)})`);
  }
  return v;
}

/** Serves the channels of every connection a source emits. Create it with `multiplex(source)`. */
export class Multiplexer<C extends ConnectionLike = Connection> {
  /** Channels one connection may have open at once. */
  readonly max_channels: number;
  readonly #channels = new Map<string, Channel<C>>();

  constructor(source: ConnectionSource<C>, options?: MultiplexOptions) {
    if (source === null || (typeof source !== 'object' && typeof source !== 'function') || typeof source.on !== 'function') {
      throw new TypeError('sockjs-express: multiplex(source) takes a router (or anything emitting \'connection\')');
    }
    this.max_channels = checkMax(options);
    source.on('connection', (conn) => this.#adopt(conn));
  }

  /**
   * The channel of this name, registered on first use; clients reach it with
   * `new WebSocketMultiplex(sockjs).channel(name)`. Subscriptions to unregistered names are refused.
   */
  channel(name: string): Channel<C> {
    if (typeof name !== 'string' || name.length === 0 || name.length > 256) {
      throw new TypeError(`sockjs-express: a channel name must be a string of 1 to 256 characters (got ${typeof name === 'string' ? name.length + ' characters' : typeof name})`);
    }
    // The client library sends escape(name); registering the same form makes names match.
    const topic = escape(name);
    let ch = this.#channels.get(topic);
    if (ch === undefined) {
      ch = new Channel<C>(name, topic);
      this.#channels.set(topic, ch);
    }
    return ch;
  }

  /** The registered channels, by name. */
  get channels(): ReadonlyMap<string, Channel<C>> {
    return new Map([...this.#channels.values()].map((c) => [c.name, c]));
  }

  #adopt(conn: C): void {
    // Created at once but tiny; most connections subscribe to something.
    const table: Table<C> = new Map();
    conn.on('data', (message) => this.#receive(conn, table, message));
    conn.on('close', (code, reason) => {
      for (const ch of [...table.values()]) control.finish(ch, code, reason);
    });
    conn.on('drain', () => {
      for (const ch of [...table.values()]) control.drained(ch);
    });
  }

  #receive(conn: C, table: Table<C>, message: unknown): void {
    // Every frame is `typ,<topic>[,<payload>]`; anything else is not ours and is ignored.
    if (typeof message !== 'string' || message.length < 4 || message.charCodeAt(3) !== COMMA) return;
    const type = message.slice(0, 3);
    const comma = message.indexOf(',', 4);
    const topic = comma === -1 ? message.slice(4) : message.slice(4, comma);
    switch (type) {
      case 'msg': {
        if (comma === -1) return;
        const ch = table.get(topic);
        if (ch !== undefined) ch.emit('data', message.slice(comma + 1));
        return;
      }
      case 'sub': {
        const channel = this.#channels.get(topic);
        const previous = table.get(topic);
        if (channel === undefined || (previous === undefined && table.size >= this.max_channels)) {
          // The client library closes its channel on `uns`: the refusal it understands.
          conn.write('uns,' + topic);
          return;
        }
        // The client library keeps one channel per name: a second `sub` replaced the first on its
        // side, so the old one ends here too (without `uns`, which would close the new one).
        if (previous !== undefined) control.finish(previous, 1000, 'Resubscribed');
        const ch = new ChannelConnection<C>(conn, channel, table);
        table.set(topic, ch);
        (channel.connections as Set<ChannelConnection<C>>).add(ch);
        channel.emit('connection', ch);
        return;
      }
      case 'uns': {
        const ch = table.get(topic);
        if (ch !== undefined) control.finish(ch, 1000, 'Unsubscribed');
        return;
      }
      default:
        return;
    }
  }
}

/**
 * Multiplexes the connections of a router (or of any source of connections) into channels.
 * Options: `max_channels` (default 64).
 */
export function multiplex(source: SockJSRouter, options?: MultiplexOptions): Multiplexer<Connection>;
export function multiplex<C extends ConnectionLike>(source: Channel<C>, options?: MultiplexOptions): Multiplexer<ChannelConnection<C>>;
export function multiplex<C extends ConnectionLike>(source: ConnectionSource<C>, options?: MultiplexOptions): Multiplexer<C>;
export function multiplex<C extends ConnectionLike>(source: ConnectionSource<C>, options?: MultiplexOptions): Multiplexer<C> {
  return new Multiplexer<C>(source, options);
}
