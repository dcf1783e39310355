/**
 * installHandlers()/attach() on a plain http.Server, as sockjs-node does it: the service's
 * listener replaces the server's 'request' and 'upgrade' listeners and passes every request
 * outside its prefix on to the listeners it replaced. Installing several services (or one service
 * under several prefixes) stacks these wrappers.
 *
 * Websocket handshakes still go through the core upgrade hook, which sends them through the
 * server's app: the 'request' listener with a `handle()` method, else the first. The outermost
 * wrapper has one (itself), so handshakes pass through these wrappers even when a listener was
 * added in front of them later. The hook's own 'upgrade' listener
 * is taken off the server and called by the wrappers, only for their prefixes, so that 'upgrade'
 * listeners the application had (which may answer every handshake) see only the other paths.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { SockJSRouter } from '../router.js';
import { appAmong, installUpgradeHook, type UpgradeableServer } from '../upgrade.js';

type Listener = (...args: unknown[]) => void;
type Next = (err?: unknown) => void;
type RoutedRequest = IncomingMessage & { originalUrl?: string; baseUrl?: string };

interface ServerState {
  /** The core hook's 'upgrade' listener, once identified. */
  hook: Listener | null;
  /** Whether the hook is currently off the server and called by the wrappers. */
  held: boolean;
  /** Installations not detached yet. */
  layers: number;
}

const states = new WeakMap<object, ServerState>();

export interface PrefixMatch {
  /** The part of the path the prefix matched: the connection's `prefix`. */
  readonly base: string;
  /** The rest, from its leading slash (or empty). */
  readonly rest: string;
}
export type PrefixMatcher = (pathname: string) => PrefixMatch | null;

/**
 * sockjs-node 0.3 read `prefix` as the start of a regular expression (`[/]echo`), 0.4 as a plain
 * path (`/echo`); both forms match here, always at a path segment boundary.
 */
export function prefixMatcher(prefix: string): PrefixMatcher {
  const p = prefix.replace(/\/+$/, '');
  if (p === '') return (pathname) => ({ base: '', rest: pathname === '/' ? '' : pathname });
  let re: RegExp;
  try {
    re = new RegExp('^(?:' + p + ')(?<rest>/.*)?$');
  } catch {
    re = new RegExp('^' + p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') + '(?<rest>/.*)?$');
  }
  return (pathname) => {
    const m = re.exec(pathname);
    if (m === null) return null;
    const rest = m.groups?.rest ?? '';
    return { base: pathname.slice(0, pathname.length - rest.length), rest };
  };
}

function matchUrl(match: PrefixMatcher, url: string | undefined): PrefixMatch | null {
  if (url === undefined || !url.startsWith('/')) return null;
  const q = url.indexOf('?');
  return match(q === -1 ? url : url.slice(0, q));
}

function notFound(res: ServerResponse, status = 404): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.statusCode = status;
  res.setHeader('Content-Type', 'text/plain; charset=UTF-8');
  res.end(status === 404 ? 'Not found.\n' : 'Internal server error.\n');
}

/** Hands a request under the prefix to the router, with the mount recorded as Express would. */
function serve(router: SockJSRouter, req: IncomingMessage, res: ServerResponse, m: PrefixMatch, next: Next | undefined): void {
  const r = req as RoutedRequest;
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  r.originalUrl = url;
  r.baseUrl = m.base;
  req.url = (m.rest === '' ? '/' : m.rest) + (q === -1 ? '' : url.slice(q));
  const done: Next = next ?? ((err) => notFound(res, err === undefined ? 404 : 500));
  (router as unknown as (req: IncomingMessage, res: ServerResponse, next: Next) => void)(req, res, done);
}

function stateOf(server: UpgradeableServer): ServerState {
  let state = states.get(server);
  if (state === undefined) {
    state = { hook: null, held: false, layers: 0 };
    states.set(server, state);
  }
  return state;
}

/** Takes the core hook's listener off the server (installing the hook first if needed). */
function holdHook(server: UpgradeableServer, state: ServerState): void {
  if (state.held) return;
  // installUpgradeHook returns the hook's listener, also when a router of this server's Express
  // app installed it earlier.
  if (state.hook === null) state.hook = installUpgradeHook(server) as Listener;
  if (!server.listeners('upgrade').includes(state.hook)) return;
  server.removeListener('upgrade', state.hook);
  state.held = true;
}

function unwrap(server: UpgradeableServer, event: string, ours: Listener, previous: readonly Listener[]): void {
  const current = server.listeners(event) as Listener[];
  const i = current.indexOf(ours);
  // Wrapped by a later installation: ours stays in that chain and passes everything through.
  if (i === -1) return;
  const restored = [...current.slice(0, i), ...previous.filter((l) => !current.includes(l)), ...current.slice(i + 1)];
  server.removeAllListeners(event);
  for (const l of restored) server.on(event, l);
}

export interface Installation {
  readonly server: UpgradeableServer;
  /** Puts the replaced listeners back; requests under the prefix are no longer served. */
  detach(): void;
}

export function install(server: UpgradeableServer, match: PrefixMatcher, router: SockJSRouter): Installation {
  const state = stateOf(server);
  let detached = false;

  const prevRequest = server.listeners('request') as Listener[];
  server.removeAllListeners('request');
  const dispatch = (req: IncomingMessage, res: ServerResponse, next?: Next): void => {
    const m = detached ? null : matchUrl(match, req.url);
    if (m !== null) {
      serve(router, req, res, m, next);
      return;
    }
    if (typeof next === 'function') {
      // Called by the upgrade hook: pass it on to the app among the replaced listeners, as the hook would.
      const app = appAmong(prevRequest);
      if (app !== undefined) app.call(server, req, res, next);
      else next();
      return;
    }
    for (const l of prevRequest) l.call(server, req, res);
    // Nobody to pass it to (and nobody added since): answer rather than leave it hanging.
    if (prevRequest.length === 0 && server.listenerCount('request') <= 1) notFound(res);
  };
  // The upgrade hook looks for the listener with handle(): this one, not a logger added in front later.
  (dispatch as { handle?: unknown }).handle = dispatch;
  server.on('request', dispatch as Listener);

  holdHook(server, state);
  const prevUpgrade = server.listeners('upgrade') as Listener[];
  server.removeAllListeners('upgrade');
  const front = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    if (!detached && state.held && state.hook !== null && matchUrl(match, req.url) !== null) {
      state.hook(req, socket, head);
      return;
    }
    if (prevUpgrade.length > 0) {
      for (const l of prevUpgrade) l.call(server, req, socket, head);
      return;
    }
    // The hook routes it through the request listeners: an Express app behind us may want it.
    if (state.held && state.hook !== null) state.hook(req, socket, head);
    else if (server.listenerCount('upgrade') <= 1) socket.destroy();
  };
  server.on('upgrade', front as Listener);
  state.layers++;

  return {
    server,
    detach() {
      if (detached) return;
      detached = true;
      unwrap(server, 'request', dispatch as Listener, prevRequest);
      unwrap(server, 'upgrade', front as Listener, prevUpgrade);
      state.layers--;
      if (state.layers === 0 && state.held && state.hook !== null) {
        // Back to how the core left it, for routers of an Express app on this server.
        server.on('upgrade', state.hook);
        state.held = false;
      }
    },
  };
}
