/**
 * The upgrade hook. Node hands websocket handshakes to the server's 'upgrade' event, bypassing
 * the Express app. The hook sends them through the app anyway (the server's 'request' listener
 * that has a `handle()` method, as Express and Connect apps do, else its first one),
 * with a response bound to the raw socket, so middleware in front of the router (auth, sessions,
 * logging) sees websockets exactly as it sees HTTP transports and can refuse them with a normal
 * HTTP answer. The websocket route then claims the socket back from that response.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { responseClassFor } from './express-server.js';
import { responseOnSocket } from './internals.js';
import { registries, type PendingUpgrade, type UpgradeListener } from './registry.js';
import type { Duplex } from 'node:stream';

/**
 * What the hook needs of a server: `http.Server`, `https.Server`, or anything alike. Declared
 * structurally (not as `EventEmitter`, whose listener types differ between @types/node versions)
 * so it accepts a server from any of them.
 */
export interface UpgradeableServer {
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  removeListener(event: string, listener: (...args: unknown[]) => void): unknown;
  removeAllListeners(event?: string): unknown;
  emit(event: string, ...args: unknown[]): boolean;
  listeners(event: string): readonly unknown[];
  listenerCount(event: string): number;
}


type AppHandler = (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void;

const pending = registries.pendingUpgrades;
const hooked = registries.upgradeHooks;

function ignoreError(): void {}

/** The websocket route takes the raw socket of an upgrade request; undefined for plain HTTP. */
export function claimUpgrade(req: IncomingMessage): { socket: Duplex; head: Buffer } | undefined {
  const p = pending.get(req);
  if (p === undefined || p.claimed) return undefined;
  p.claimed = true;
  p.res.detachSocket(p.socket as never);
  return { socket: p.socket, head: p.head };
}

/** A websocket handshake, whether it came through the hook or (hook not yet installed) as HTTP. */
export function isUpgrade(req: IncomingMessage): boolean {
  if (pending.has(req)) return true;
  const upgrade = req.headers.upgrade;
  const connection = req.headers.connection;
  return upgrade !== undefined && upgrade.toLowerCase() === 'websocket' &&
    connection !== undefined && /(?:^|,)\s*upgrade\s*(?:,|$)/i.test(connection);
}

export function isHooked(server: object): boolean {
  return hooked.has(server);
}

/** Installs the hook once per server, whichever service asks first; returns its 'upgrade' listener. */
export function installUpgradeHook(server: UpgradeableServer): UpgradeListener {
  let listener = hooked.get(server);
  if (listener === undefined) {
    listener = (req, socket, head) => onUpgrade(server, req, socket, head);
    hooked.set(server, listener);
    server.on('upgrade', listener as (...args: unknown[]) => void);
  }
  return listener;
}

// Every SockJS websocket endpoint ends in /websocket; other upgrades may belong to other listeners.
function looksLikeSockJS(url: string | undefined): boolean {
  if (url === undefined) return false;
  const q = url.indexOf('?');
  return (q === -1 ? url : url.slice(0, q)).endsWith('/websocket');
}

/**
 * Once a server has an 'upgrade' listener, Node hands it every request that carries
 * `Connection: Upgrade` (curl --http2 offers h2c on any request), its body unread and its socket
 * no longer watched. A request that is no SockJS websocket handshake goes back to the server as
 * plain HTTP: its head is rebuilt without the Upgrade header and put back in front of whatever
 * was read after it, and the server's connection handling parses the socket again, so the app
 * sees an ordinary request (body, keep-alive, hang-up detection included). The server's
 * 'connection' listeners see the socket a second time.
 */
function replayAsHttp(server: UpgradeableServer, req: IncomingMessage, socket: Duplex, head: Buffer): void {
  let text = `${req.method ?? 'GET'} ${req.url ?? '/'} HTTP/${req.httpVersion}\r\n`;
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (raw[i]!.toLowerCase() !== 'upgrade') text += raw[i] + ': ' + raw[i + 1] + '\r\n';
  }
  // Node decodes header bytes as latin1: encoding them back that way restores them exactly.
  const rebuilt = Buffer.from(text + '\r\n', 'latin1');
  socket.unshift(head.length > 0 ? Buffer.concat([rebuilt, head]) : rebuilt);
  // https.Server runs its HTTP handling on 'secureConnection' (after TLS), http.Server on 'connection'.
  server.emit((socket as { encrypted?: boolean }).encrypted === true ? 'secureConnection' : 'connection', socket);
}

// Above this many header lines an upgrade request is not replayed: Node truncates the rawHeaders
// of upgrade requests past a cap (1023 lines by default, fewer with a small maxHeadersCount), and
// a head rebuilt without a Content-Length or Transfer-Encoding beyond it would read the body
// as a second request. No real client sends that many.
const REPLAY_MAX_HEADERS = 500;

function tooManyHeaders(server: UpgradeableServer, req: IncomingMessage): boolean {
  const lines = req.rawHeaders.length / 2;
  const cap = (server as { maxHeadersCount?: number | null }).maxHeadersCount;
  return lines >= REPLAY_MAX_HEADERS || (typeof cap === 'number' && cap > 0 && lines >= cap);
}

/**
 * Runs `then` once no earlier response holds the socket. A request pipelined (or sent early on a
 * keep-alive connection) behind one whose answer is still going out arrives while that response
 * owns the socket: writing to it now would interleave two answers, and replaying it would hand
 * the socket to a new parser while the old one still owes it to its queued responses.
 */
function afterEarlierResponses(socket: Duplex, then: () => void): void {
  const earlier = responseOnSocket(socket);
  if (earlier === null) {
    then();
    return;
  }
  const next = (): void => {
    earlier.off('finish', next);
    earlier.off('close', next);
    // The earlier request asked to close the connection, or the client went away.
    if (socket.destroyed || !socket.writable) {
      socket.destroy();
      return;
    }
    // Node has moved on to the next queued response, if any, by now.
    afterEarlierResponses(socket, then);
  };
  earlier.on('finish', next);
  earlier.on('close', next);
}

/** An empty answer written straight to the socket, which then closes. */
function endWith(socket: Duplex, status: string): void {
  socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

/**
 * The app a server serves: the 'request' listener that is an Express or Connect app (it has a
 * `handle` method), else the first. A listener added in front of the app (a request logger)
 * must not be taken for it.
 */
function appOf(server: UpgradeableServer): AppHandler | undefined {
  return appAmong(server.listeners('request') as AppHandler[]);
}

/** Of some 'request' listeners, the one that is an app (has `handle()`), else the first. */
export function appAmong<L>(listeners: readonly L[]): L | undefined {
  return listeners.find((l) => typeof (l as { handle?: unknown }).handle === 'function') ?? listeners[0];
}

function onUpgrade(server: UpgradeableServer, req: IncomingMessage, socket: Duplex, head: Buffer): void {
  const shared = server.listeners('upgrade').length > 1;
  const sockjsPath = looksLikeSockJS(req.url);
  if (shared && !sockjsPath) return;
  // Node took its own error listener off the socket: without one, a client that resets the
  // connection (mid-handshake, or while this waits) would crash the process.
  if (!socket.listeners('error').includes(ignoreError)) socket.on('error', ignoreError);
  afterEarlierResponses(socket, () => {
    const app = appOf(server);
    if (app === undefined) {
      if (!shared) endWith(socket, '404 Not Found');
    } else if (sockjsPath) {
      throughApp(app, shared, req, socket, head);
    } else if (tooManyHeaders(server, req)) {
      endWith(socket, '431 Request Header Fields Too Large');
    } else {
      replayAsHttp(server, req, socket, head);
    }
  });
}

/** A SockJS websocket handshake goes through the app, on a response bound to the raw socket. */
function throughApp(app: AppHandler, shared: boolean, req: IncomingMessage, socket: Duplex, head: Buffer): void {
  // Under expressServer(app), born with the app's prototype like every other response.
  const res = new (responseClassFor(req))(req);
  res.shouldKeepAlive = false;
  res.assignSocket(socket as never);
  res.on('finish', () => {
    res.detachSocket(socket as never);
    socket.end();
  });
  const p: PendingUpgrade = { socket, head, res, claimed: false };
  pending.set(req, p);
  const unhandled = (err?: unknown): void => {
    if (p.claimed || res.headersSent) return;
    if (shared) {
      // Some other 'upgrade' listener may own this path: leave the socket to it.
      p.claimed = true;
      res.detachSocket(socket as never);
      return;
    }
    res.statusCode = err === undefined ? 404 : 500;
    res.setHeader('Content-Type', 'text/plain; charset=UTF-8');
    res.end(err === undefined ? 'Not found.\n' : 'Internal server error.\n');
  };
  try {
    app(req, res, unhandled);
  } catch (err) {
    unhandled(err);
  }
}
