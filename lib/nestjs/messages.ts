/**
 * Messages between a gateway and its clients, in the shape of Nest's `ws` adapter: the client
 * sends `{"event": name, "data": payload}` as one SockJS message; the `@SubscribeMessage(name)`
 * handler gets `data`, and each value it gives back (a value, a Promise, every value of an
 * Observable) goes out as its JSON, unless null or undefined. Return `{ event, data }` to answer
 * with an event of your own.
 */
import { EventEmitter } from 'node:events';
import type { Connection } from '../connection.js';

/** One `@SubscribeMessage()` of a gateway, bound to a client (Nest's `WsMessageHandler`). */
export interface MessageHandler {
  message: unknown;
  callback: (...args: unknown[]) => unknown;
}

interface SubscriptionLike {
  readonly closed: boolean;
  unsubscribe(): void;
}

/** What Nest's `transform` gives: an rxjs Observable of the handler's answers. */
export interface ObservableLike {
  subscribe(observer: { next(value: unknown): void; error(err: unknown): void }): SubscriptionLike;
}

const OPEN = 1;
// Answer subscriptions still running (a slow Promise, an Observable that keeps emitting) are
// counted per client; the finished ones are swept out of the set whenever it reaches this size.
const SWEEP_AT = 32;
// What Nest's exception filter reports for an error it does not know; the same here for an answer
// that cannot be turned into JSON (a cycle, a BigInt).
const UNKNOWN_ERROR = JSON.stringify({ event: 'exception', data: { status: 'error', message: 'Internal server error' } });

function sendJson(conn: Connection, value: unknown): void {
  if (conn.readyState !== OPEN) return;
  let text: string;
  try {
    text = JSON.stringify(value);
  } catch {
    text = UNKNOWN_ERROR;
  }
  conn.write(text);
}

const emitLocally = EventEmitter.prototype.emit;

/**
 * A gateway client's `emit`. Nest's exception filters report an error with
 * `client.emit('exception', payload)` (socket.io's way of sending an event): that one goes to the
 * client as `{"event":"exception","data":payload}`. Every other event stays local, as on any
 * Connection.
 */
function emitToClient(this: Connection, event: string | symbol): boolean {
  if (event === 'exception') {
    sendJson(this, { event, data: arguments[1] as unknown });
    return true;
  }
  // Passed on as they came: every 'data' of a path with several gateways comes through here.
  return emitLocally.apply(this, arguments as unknown as [string | symbol, ...unknown[]]);
}

/** A connection as Nest's gateways see it: exceptions reported to Nest go to the client. */
export function adoptClient(conn: Connection): Connection {
  if (!Object.hasOwn(conn, 'emit')) {
    Object.defineProperty(conn, 'emit', { value: emitToClient, writable: true, configurable: true });
  }
  return conn;
}

/** Routes a client's messages to one gateway's handlers (called once per gateway on the path). */
export function routeMessages(conn: Connection, handlers: readonly MessageHandler[], transform: (result: unknown) => ObservableLike): void {
  const byEvent = new Map<unknown, MessageHandler['callback']>();
  for (const h of handlers) byEvent.set(h.message, h.callback);
  const running = new Set<SubscriptionLike>();
  // One observer per client and gateway: answers go out in the order they are produced, as
  // with Nest's ws adapter (a quick answer may overtake a slow one).
  const observer = {
    next: (value: unknown): void => {
      if (value !== null && value !== undefined) sendJson(conn, value);
    },
    // Nest's proxy hands handler errors to the exception filters before they get here; this
    // keeps anything else from becoming an rxjs unhandled error, which would end the process.
    error: (): void => {},
  };
  conn.on('data', (message) => {
    const parsed = parseMessage(message);
    if (parsed === undefined) return;
    const callback = byEvent.get(parsed.event);
    // Not this gateway's event (another gateway on the path may take it), as in Nest's ws adapter.
    if (callback === undefined) return;
    let answers: ObservableLike;
    try {
      answers = transform(callback(parsed.data, parsed.event));
    } catch {
      if (conn.readyState === OPEN) conn.write(UNKNOWN_ERROR);
      return;
    }
    const sub = answers.subscribe(observer);
    if (sub.closed) return;
    if (running.size >= SWEEP_AT) for (const s of running) if (s.closed) running.delete(s);
    running.add(sub);
  });
  conn.once('close', () => {
    for (const s of running) s.unsubscribe();
    running.clear();
  });
}

/** `{"event": …, "data": …}`; anything else (not JSON, no event) is not a gateway message. */
function parseMessage(message: string): { event: unknown; data: unknown } | undefined {
  let value: unknown;
  try {
    value = JSON.parse(message);
  } catch {
    return undefined;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const event = (value as { event?: unknown }).event;
  if (event === undefined) return undefined;
  return { event, data: (value as { data?: unknown }).data };
}
