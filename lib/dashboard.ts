/**
 * `sockjs-express/dashboard`: a live page for operators, as an Express Router to mount behind
 * your own authentication:
 *
 *   app.use('/admin/sockjs', requireAdmin, dashboard({ chat, echo }));
 *
 * It serves one self-contained page (HTML, CSS and script from this package, no CDN) that polls
 * `api/snapshot` once a second. Figures are computed per request; nothing runs while no page is
 * open. Closing sessions from the page is off unless `actions: true`.
 */
import express from 'express';
import type { Request, Response, Router } from 'express';
import type { SockJSRouter } from './router.js';
import { Sampler, type DashboardService } from './dashboard/snapshot.js';
import { pageHtml, PAGE_CSS } from './dashboard/page.js';
import { PAGE_JS } from './dashboard/script.js';

export type { DashboardSnapshot, Sample, ServiceSample, ConsumerRow, RoomRow } from './dashboard/snapshot.js';
export type { ProcessFigures, ProcessService, ServiceFigures, ClusterFigures } from './dashboard/processes.js';
export type { ProcessReport } from './figures.js';

export interface DashboardOptions {
  /** Lets the page close sessions (a same-origin POST with the `X-SockJS-Dashboard` header). Default false. */
  actions?: boolean;
  /** Seconds of history the plots cover, 10 to 3600. Default 300. */
  history?: number;
  /** Rows in the rooms and slowest-consumers tables, 1 to 100. Default 10. */
  top?: number;
  /** The page's title. Default `SockJS`. */
  title?: string;
}

/** One router, an array of them, or a record of name → router. */
export type DashboardServices = SockJSRouter | readonly SockJSRouter[] | Readonly<Record<string, SockJSRouter>>;

/** The header a close request must carry: browsers send it cross-origin only after a preflight this router never grants. */
export const ACTION_HEADER = 'x-sockjs-dashboard';
/** The close frame a session closed from the dashboard gets. */
export const CLOSED_BY_DASHBOARD = { code: 4000, reason: 'Closed from the dashboard' } as const;

function isRouter(value: unknown): value is SockJSRouter {
  const r = value as SockJSRouter | null;
  return typeof r === 'function' && typeof r.stats?.dump === 'function' && r.connections instanceof Set;
}

function servicesOf(routers: DashboardServices): DashboardService[] {
  const bad = (): never => {
    throw new TypeError('sockjs-express: dashboard(routers) takes a sockjs() router, an array of them, or a record of name → router');
  };
  let list: DashboardService[];
  if (isRouter(routers)) list = [{ name: null, router: routers }];
  else if (Array.isArray(routers)) list = routers.map((router: unknown) => (isRouter(router) ? { name: null, router } : bad()));
  else if (routers !== null && typeof routers === 'object') {
    list = Object.entries(routers as Record<string, unknown>).map(([name, router]) => (isRouter(router) ? { name, router } : bad()));
  } else list = bad();
  if (list.length === 0) bad();
  return list;
}

function intOption(value: unknown, name: string, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new TypeError(`sockjs-express: dashboard option "${name}" must be an integer from ${min} to ${max} (got ${String(value)})`);
  }
  return value;
}

function send(res: Response, status: number, type: string, body: string): void {
  res.status(status);
  res.setHeader('Content-Type', type);
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.end(body);
}

const json = (res: Response, status: number, value: unknown): void => send(res, status, 'application/json; charset=utf-8', JSON.stringify(value));

/** Why a close request is refused (null: it may proceed): it must come from this page, on this origin. */
function refusal(req: Request, actions: boolean): string | null {
  if (!actions) return 'actions are disabled (dashboard option "actions: true" enables them)';
  if (req.headers[ACTION_HEADER] !== '1') return `the ${ACTION_HEADER}: 1 header is missing`;
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin') return 'cross-site request';
  const origin = req.headers.origin;
  if (origin !== undefined) {
    let host: string;
    try {
      host = new URL(origin).host;
    } catch {
      return 'bad Origin';
    }
    if (host !== req.headers.host) return 'cross-origin request';
  }
  return null;
}

/** The dashboard of the given services, as a Router to mount (behind authentication) with app.use(path, ...). */
export function dashboard(routers: DashboardServices, options: DashboardOptions = {}): Router {
  if (options === null || typeof options !== 'object') throw new TypeError('sockjs-express: dashboard(routers, options) takes an options object');
  const services = servicesOf(routers);
  const actions = options.actions ?? false;
  if (typeof actions !== 'boolean') throw new TypeError('sockjs-express: dashboard option "actions" must be a boolean');
  if (options.title !== undefined && typeof options.title !== 'string') throw new TypeError('sockjs-express: dashboard option "title" must be a string');
  const history = intOption(options.history, 'history', 10, 3600, 300);
  const top = intOption(options.top, 'top', 1, 100, 10);
  const sampler = new Sampler(services, history, top, actions);
  const html = pageHtml(options.title ?? 'SockJS');

  const router = express.Router();
  router.get('/', (req, res) => {
    // Relative asset URLs need the trailing slash: /admin/sockjs → /admin/sockjs/
    const url = req.originalUrl;
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    if (!path.endsWith('/')) {
      res.redirect(301, path + '/' + (q === -1 ? '' : url.slice(q)));
      return;
    }
    res.setHeader('Content-Security-Policy', "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'");
    res.setHeader('Referrer-Policy', 'no-referrer');
    send(res, 200, 'text/html; charset=utf-8', html);
  });
  router.get('/dashboard.js', (_req, res) => send(res, 200, 'application/javascript; charset=utf-8', PAGE_JS));
  router.get('/dashboard.css', (_req, res) => send(res, 200, 'text/css; charset=utf-8', PAGE_CSS));
  router.get('/api/snapshot', (req, res) => {
    const since = Number(req.query['since']);
    json(res, 200, sampler.snapshot(Number.isFinite(since) && since > 0 ? since : 0));
  });
  router.post('/api/sessions/:id/close', (req, res) => {
    const why = refusal(req, actions);
    if (why !== null) {
      json(res, 403, { error: why });
      return;
    }
    const id = String(req.params['id']);
    for (const { router: r } of services) {
      for (const conn of r.connections) {
        if (conn.id !== id) continue;
        conn.close(CLOSED_BY_DASHBOARD.code, CLOSED_BY_DASHBOARD.reason);
        json(res, 200, { closed: id });
        return;
      }
    }
    json(res, 404, { error: 'no open session with this id' });
  });
  return router;
}
