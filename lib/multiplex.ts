/**
 * Channels over one SockJS connection: the server side of the `websocket-multiplex` wire format.
 *
 *   client → server   sub,<topic>   msg,<topic>,<payload>   uns,<topic>
 *   server → client   msg,<topic>,<payload>   uns,<topic>
 *
 * Only the first two commas split a frame, so payloads keep theirs. The client library escapes
 * channel names with `escape()`, so topics never contain commas; `channel(name)` registers the
 * escaped form for the same reason. Each channel connection behaves like a Connection of its own
 * (the channel objects are in lib/multiplex/channel.ts; this module reads and answers the frames).
 *
 *   const mux = multiplex(router);
 *   mux.channel('chat').on('connection', (ch) => ch.on('data', (m) => ch.write(m)));
 */
import type { Connection } from './connection.js';
import type { SockJSRouter } from './router.js';
import { Channel, channelDrained, finishChannel, subscribe, type ChannelConnection, type ConnectionLike, type Table } from './multiplex/channel.js';

export { Channel, ChannelConnection } from './multiplex/channel.js';
export type { ChannelEvents, ConnectionLike } from './multiplex/channel.js';

/** Anything that emits connections: a SockJSRouter, a compat server, a Channel. */
export interface ConnectionSource<C extends ConnectionLike> {
  on(event: 'connection', listener: (conn: C) => void): unknown;
}

export interface MultiplexOptions {
  /** Channels one connection may have open at once; a `sub` beyond is answered with `uns`. Default 64. */
  max_channels?: number;
}

const COMMA = 44;

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
      for (const ch of [...table.values()]) finishChannel(ch, code, reason);
    });
    conn.on('drain', () => {
      for (const ch of [...table.values()]) channelDrained(ch);
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
        if (previous !== undefined) finishChannel(previous, 1000, 'Resubscribed');
        subscribe(conn, channel, table);
        return;
      }
      case 'uns': {
        const ch = table.get(topic);
        if (ch !== undefined) finishChannel(ch, 1000, 'Unsubscribed');
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
