/**
 * What a session is made of and talks to: its states, why it ends, the receiver that carries its
 * frames to the client, and the service that owns it (SessionHost).
 */
import type { SharedFrame } from '../protocol/shared-frame.js';
import type { FlushScheduler } from './flush.js';
import type { Stats } from '../stats.js';
import type { Rooms } from '../rooms.js';
import type { SessionLifecycle as Session } from './lifecycle.js';
import type { BufferLimits } from './outbox.js';
import type { LogFunction } from '../options.js';

export const CONNECTING = 0;
export const OPEN = 1;
export const CLOSING = 2;
export const CLOSED = 3;
export type ReadyState = typeof CONNECTING | typeof OPEN | typeof CLOSING | typeof CLOSED;

/** Why a session ended; counted in stats (sessions_closed) and logged. */
export type CloseCause = 'server' | 'client' | 'interrupted' | 'timeout' | 'limit' | 'shutdown';

/** Something that carries frames to the client: a websocket, or one HTTP response. */
export interface Receiver {
  /** Writes one frame in the transport's envelope (`shared`: the same frame goes to other
   *  sessions, encode it through it). Returns false when the receiver can take no more frames (a
   *  polling response is answered, or a streaming one reached response_limit). */
  sendFrame(frame: string, shared?: SharedFrame | null): boolean;
  /** Raw websocket only: one message, unframed. */
  sendRaw?(message: string): void;
  /** Websockets: a protocol-level ping (raw websockets get it in place of the `h` frame). */
  ping?(): void;
  /**
   * Websockets that can be pinged: a count that grows whenever anything arrives from the peer
   * (the socket's bytes read: a pong, a frame, part of one), read only when the timer fires, so
   * receiving costs nothing. -1 where a silent peer cannot be told from a dead one (hixie-76).
   */
  heardBytes?(): number;
  /** Ends the underlying response or socket; the session is done with it. */
  end(code?: number, reason?: string): void;
  /** Bytes written to the socket and not yet sent. */
  readonly bufferedAmount: number;
  /** Drops the connection at once (a client that stopped reading). */
  destroy(): void;
  /** Takes frames one after another (a websocket, a streaming response), not one frame in all. */
  readonly streams?: boolean;
  /** A frame costs one small socket write here (websockets): see sendQuoted. */
  readonly cheapFrames?: boolean;
}

/** What a session needs from the service that owns it. */
export interface SessionHost extends BufferLimits {
  readonly heartbeatDelay: number;
  /** Milliseconds a pinged websocket peer has to answer (anything at all); 0: never checked. */
  readonly heartbeatTimeout: number;
  readonly disconnectDelay: number;
  readonly log: LogFunction;
  readonly stats: Stats;
  readonly rooms: Rooms;
  readonly flusher: FlushScheduler;
  /** Called once, after the open frame went out: emits the router's 'connection' event. */
  opened(session: Session): void;
  /** Called once, when the session is closed (the 'close' event follows). */
  closed(session: Session, cause: CloseCause): void;
  /** Called when the session should be forgotten (after lingering with its close frame). */
  forget(session: Session): void;
  /** Called each time a receiver was handed the close frame. */
  closeDelivered(session: Session): void;
}
