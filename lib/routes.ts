/**
 * The route table: every URL under a service's mount path, in one place.
 *
 *   /                                  greeting
 *   /info                              capabilities + entropy (GET, OPTIONS)
 *   /iframe.html, /iframe-<v>.html     iframe page
 *   /websocket                         raw websocket
 *   /<server>/<session>/<transport>    session transports
 *
 * Paths of none of these shapes are not SockJS URLs: the router passes them on with next()
 * (isSockJSPath). A SockJS URL the service does not serve (a disabled transport, an id with a
 * dot or too long, a send to no session) is 404; a known path with the wrong method is 405 with `Allow`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TransportName } from './options.js';
import { localsOf, type Service } from './service.js';
import type { Session } from './session/session.js';
import { greeting } from './http/greeting.js';
import { info, infoUnavailable } from './http/info.js';
import { serveIframe } from './http/iframe.js';
import { preflight } from './http/headers.js';
import { methodNotAllowed, notFound, sendError } from './http/respond.js';
import { claimUpgrade, isUpgrade } from './upgrade.js';
import { eventSource } from './transports/eventsource.js';
import { htmlFile } from './transports/htmlfile.js';
import { jsonpPolling, jsonpSend } from './transports/jsonp.js';
import { rejectHttp, upgradeWebSocket } from './transports/websocket.js';
import { xhrPolling, xhrSend, xhrStreaming } from './transports/xhr.js';

type Handler = (svc: Service, req: IncomingMessage, res: ServerResponse, sessionId: string) => void;
type SendHandler = (svc: Service, req: IncomingMessage, res: ServerResponse, session: Session) => void;

interface SessionRoute {
  /** The method that does the work. */
  readonly method: 'GET' | 'POST';
  /** Answered to OPTIONS (CORS preflight), or null when the route has none. */
  readonly preflight: string | null;
  /** Disabled when all of these transports are disabled. */
  readonly servedFor: readonly TransportName[];
  /** Opens or reattaches a session... */
  readonly receive?: Handler;
  /** ...or delivers messages to an existing one (404 when there is none). */
  readonly send?: SendHandler;
}

const XHR_METHODS = 'OPTIONS, POST';

const SESSION_ROUTES: ReadonlyMap<string, SessionRoute> = new Map(Object.entries({
  xhr: { method: 'POST', preflight: XHR_METHODS, servedFor: ['xhr-polling'], receive: xhrPolling },
  xhr_streaming: { method: 'POST', preflight: XHR_METHODS, servedFor: ['xhr-streaming'], receive: xhrStreaming },
  xhr_send: {
    method: 'POST',
    preflight: XHR_METHODS,
    servedFor: ['xhr-polling', 'xhr-streaming', 'eventsource', 'htmlfile'],
    send: xhrSend,
  },
  eventsource: { method: 'GET', preflight: null, servedFor: ['eventsource'], receive: eventSource },
  htmlfile: { method: 'GET', preflight: null, servedFor: ['htmlfile'], receive: htmlFile },
  jsonp: { method: 'GET', preflight: null, servedFor: ['jsonp-polling'], receive: jsonpPolling },
  jsonp_send: { method: 'POST', preflight: null, servedFor: ['jsonp-polling'], send: jsonpSend },
  websocket: { method: 'GET', preflight: null, servedFor: ['websocket'] },
} satisfies Record<string, SessionRoute>));

// Server and session ids may be every non-empty segment without dots (the protocol's rule, which also
// keeps `.` and `..` out); both are bounded by max_session_id_length.
const SESSION_PATH = /^\/([^/.]+)\/([^/.]+)\/([a-z_]+)$/;
const IFRAME_PATH = /^\/iframe[\w.-]*\.html$/;

/** Whether a URL (query included) has the shape of a SockJS URL; the router passes on the others. */
export function isSockJSPath(url: string): boolean {
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);
  if (path === '/' || path === '' || path === '/info' || path === '/websocket' || IFRAME_PATH.test(path)) return true;
  const m = SESSION_PATH.exec(path);
  return m !== null && SESSION_ROUTES.has(m[3]!);
}

function enabled(svc: Service, names: readonly TransportName[]): boolean {
  for (const n of names) if (!svc.options.disabled.has(n)) return true;
  return false;
}

/** Dispatches one request (HTTP, or an upgrade sent through the app by the hook). */
export function route(svc: Service, req: IncomingMessage, res: ServerResponse): void {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);
  const method = req.method ?? 'GET';

  if (path === '/' || path === '') {
    if (method === 'GET' || method === 'HEAD') greeting(res);
    else methodNotAllowed(res, 'GET, HEAD');
    return;
  }
  if (!svc.originAllowed(req)) {
    sendError(res, 403, 'Origin not allowed.');
    return;
  }
  if (path === '/info') {
    if (method === 'GET' || method === 'HEAD') {
      if (svc.accepting) info(req, res, svc.options, svc.entropy);
      else infoUnavailable(req, res, svc.options);
    }
    else if (method === 'OPTIONS') preflight(req, res, svc.options, 'OPTIONS, GET');
    else methodNotAllowed(res, 'OPTIONS, GET');
    return;
  }
  if (path === '/websocket') {
    websocketRoute(svc, req, res, true);
    return;
  }
  if (IFRAME_PATH.test(path)) {
    if (method === 'GET' || method === 'HEAD') serveIframe(req, res, svc.iframe);
    else methodNotAllowed(res, 'GET, HEAD');
    return;
  }
  const m = SESSION_PATH.exec(path);
  const r = m === null ? undefined : SESSION_ROUTES.get(m[3]!);
  const maxId = svc.options.max_session_id_length;
  if (r === undefined || !enabled(svc, r.servedFor) || m![2]!.length > maxId || m![1]!.length > maxId) {
    notFound(res);
    return;
  }
  if (r.receive === undefined && r.send === undefined) {
    websocketRoute(svc, req, res, false);
    return;
  }
  if (method === 'OPTIONS' && r.preflight !== null) {
    preflight(req, res, svc.options, r.preflight);
    return;
  }
  if (method !== r.method) {
    methodNotAllowed(res, r.preflight ?? r.method);
    return;
  }
  const sessionId = m![2]!;
  if (r.receive !== undefined) {
    r.receive(svc, req, res, sessionId);
    return;
  }
  const session = svc.store.get(sessionId);
  if (session === undefined) {
    notFound(res);
    return;
  }
  r.send!(svc, req, res, session);
}

function websocketRoute(svc: Service, req: IncomingMessage, res: ServerResponse, raw: boolean): void {
  // Disabling 'websocket' turns off both endpoints (as sockjs-node's websocket: false does).
  const off = svc.options.disabled;
  if (off.has('websocket') || (raw && off.has('websocket-raw'))) {
    notFound(res);
    return;
  }
  if (req.method !== 'GET') {
    methodNotAllowed(res, 'GET');
    return;
  }
  if (!isUpgrade(req)) {
    rejectHttp(req, res);
    return;
  }
  svc.admit(req, res, () => {
    const upgrade = claimUpgrade(req);
    // No socket to claim: the app was reached without the hook (attach() was never called and
    // this is the server's first request), so Node treated the handshake as plain HTTP.
    if (upgrade === undefined) sendError(res, 503, 'WebSocket upgrade hook not installed yet: call router.attach(server), then retry.');
    else upgradeWebSocket(svc, req, upgrade.socket, upgrade.head, raw, localsOf(res));
  });
}
