/**
 * The standard SockJS test server, built only from the public API. It serves the services that
 * the sockjs-protocol suite and sockjs-client's own tests expect:
 *   /echo (response_limit 4096), /disabled_websocket_echo, /cookie_needed_echo, /close,
 *   /ticker, /broadcast, /amplify
 * plus the sockjs-client bundle at /sockjs.js, which every service's iframe page loads, and
 * Prometheus metrics of all services at /metrics.
 *
 *   PORT=8081 npm run test-server
 */
import express from 'express';
import type http from 'node:http';
import { createRequire } from 'node:module';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import sockjs, { expressServer, metricsHandler, type SockJSOptions, type SockJSRouter } from '../../lib/index.js';

const require = createRequire(import.meta.url);
export const SOCKJS_CLIENT_BUNDLE = require.resolve('sockjs-client/dist/sockjs.min.js');

export interface TestServer {
  readonly server: http.Server;
  readonly url: string;
  readonly port: number;
  readonly services: Record<string, SockJSRouter>;
  close(): Promise<void>;
}

/**
 * `pages` adds static files to the server (path -> body, type from the extension), e.g. the
 * browser tests' same-origin page: `{ '/e2e.html': '<!doctype html>...' }`.
 */
export async function startTestServer(
  port = 0,
  host = '127.0.0.1',
  extra: SockJSOptions = {},
  pages: Readonly<Record<string, string>> = {},
): Promise<TestServer> {
  const app = express();
  const base: SockJSOptions = { sockjs_url: '/sockjs.js', hixie76: true, ...extra };
  app.get('/sockjs.js', (_req, res) => {
    res.type('application/javascript');
    res.sendFile(SOCKJS_CLIENT_BUNDLE);
  });
  for (const [path, body] of Object.entries(pages)) {
    app.get(path, (_req, res) => {
      res.type(extname(path) || 'html');
      res.send(body);
    });
  }

  const services: Record<string, SockJSRouter> = {};
  const mount = (name: string, opts: SockJSOptions, setup: (r: SockJSRouter) => void): void => {
    const router = sockjs({ ...base, ...opts });
    setup(router);
    services[name] = router;
    app.use('/' + name, router);
  };
  const echo = (r: SockJSRouter): void => {
    r.on('connection', (conn) => conn.on('data', (m) => conn.write(m)));
  };

  mount('echo', { response_limit: 4096 }, echo);
  mount('disabled_websocket_echo', { disabled_transports: ['websocket'] }, echo);
  mount('cookie_needed_echo', { cookie_needed: true }, echo);
  mount('close', {}, (r) => r.on('connection', (conn) => conn.close(3000, 'Go away!')));
  mount('ticker', {}, (r) =>
    r.on('connection', (conn) => {
      const t = setInterval(() => conn.write('tick!'), 1000);
      conn.on('close', () => clearInterval(t));
    }),
  );
  mount('broadcast', {}, (r) => r.on('connection', (conn) => conn.on('data', (m) => r.broadcast(m))));
  mount('amplify', {}, (r) =>
    r.on('connection', (conn) =>
      conn.on('data', (m) => {
        let n = Number(m);
        if (!Number.isInteger(n) || n < 1 || n > 18) n = 1;
        conn.write('x'.repeat(2 ** n));
      }),
    ),
  );

  app.get('/metrics', metricsHandler(services));
  // As the README recommends (every test through it runs on requests born with the app's prototypes).
  const server = expressServer(app);
  for (const r of Object.values(services)) r.attach(server);
  await new Promise<void>((resolve) => server.listen(port, host, resolve));
  const actual = (server.address() as { port: number }).port;
  return {
    server,
    port: actual,
    url: `http://${host}:${actual}`,
    services,
    async close() {
      await Promise.all(Object.values(services).map((r) => r.close()));
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const port = Number(process.env.PORT ?? 8081);
  const host = process.env.HOST ?? '127.0.0.1';
  startTestServer(port, host).then((s) => {
    console.log(`sockjs-express test server on ${s.url}`);
  });
}
