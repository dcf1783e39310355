/** The companion client's public types: its options, its events, and what it needs of sockjs-client. */
import type { BackoffOptions } from './backoff.js';

/** The part of a sockjs-client instance this client uses. */
export interface SockJSLike {
  readonly readyState: number;
  /** The transport in use, once open. */
  readonly transport?: string;
  onopen: (() => void) | null;
  onmessage: ((e: { data: unknown }) => void) | null;
  onclose: ((e: { code: number; reason: string }) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}
export type SockJSConstructor = new (url: string, reserved?: null, options?: Record<string, unknown>) => SockJSLike;

export interface ConnectOptions {
  /** sockjs-client's constructor. Default: the global `SockJS` (the page's sockjs-client script). */
  SockJS?: SockJSConstructor;
  /** Options handed to sockjs-client (`transports`, `timeout`, …). */
  sockjs?: Record<string, unknown>;
  /** Shorthand for `sockjs.transports`. */
  transports?: string[];
  /** Ask the server for recovery. Default true; false makes a plain reconnecting client that never waits for the server's `ready`. */
  recovery?: boolean;
  /** How long to wait after opening for the server's `ready` before treating it as a plain SockJS server (ms; once welcomed, before retrying: the third attempt in a row waits 4× as long, then goes plain). Default 3 000. */
  readyTimeout?: number;
  /** A session that has not become usable (welcome, or plain mode) this long after it was started is dropped and retried (ms). Default 10 000. */
  connectTimeout?: number;
  /** With recovery: a session that brought nothing for this long is probed, and dropped and resumed if still silent after as long again (ms). Default 10 000. */
  stallTimeout?: number;
  /** Reconnection delays. */
  reconnect?: BackoffOptions;
  /** Messages held while disconnected, plus those sent and not yet confirmed. Default 1 000; send() returns false beyond. */
  queueLimit?: number;
  /** With a plain server: whether a close with this code ends the client instead of reconnecting. Default: codes 3000–4999 except 3100. */
  isFinal?: (code: number, reason: string) => boolean;
}

export interface LostInfo {
  /** 'unknown': the server no longer had the connection (window over, restarted); 'gap': its buffer no longer held what was missed; 'unsupported': the server has no recovery. */
  reason: 'unknown' | 'gap' | 'version' | 'unsupported';
  /** Messages sent on the old connection that the server never confirmed: it may or may not have received them. */
  unconfirmed: string[];
}

export interface RecoveredInfo {
  /** The connection came back on another server process (its old one was gone). */
  moved: boolean;
  /** Moved: messages sent again that the old process may have delivered already (the application may see them twice). */
  resent: string[];
  /** Moved: the old process had written directly to this connection; what it wrote after the last message received here is lost. */
  directMayBeLost: boolean;
}

export interface RecoveringSocketEvents {
  /** Connected for the first time. */
  open: [];
  message: [data: string];
  /** The connection dropped; the next attempt starts after `delay` ms. */
  reconnecting: [info: { attempt: number; delay: number; code: number; reason: string }];
  /** A new SockJS session opened after a drop (`recovered` or `lost` follows). */
  reconnected: [];
  /** The server resumed the connection: nothing was missed either way, except what `info` says when it moved to another process. */
  recovered: [info: RecoveredInfo];
  /** The connection is a new one: what the server sent meanwhile is gone, and `unconfirmed` may not have arrived. */
  lost: [info: LostInfo];
  /** Final: close() was called, the server closed the connection, or the attempts ran out (4900). */
  close: [info: { code: number; reason: string }];
}
