/** A server with two services (chat: rooms; echo) and the dashboard at /admin/sockjs, for the dashboard's tests. */
import http from 'node:http';
import express from 'express';
import WebSocket from 'ws';
import type { Browser, Page } from 'playwright-core';
import sockjs, { type Adapter, type Connection, type SockJSRouter } from '../../lib/index.js';
import { dashboard, type DashboardOptions, type DashboardSnapshot } from '../../lib/dashboard.js';
import { GET, WsClient, sessionUrl } from '../support/client.js';
import { waitUntil } from '../protocol/helpers.js';

export interface DashboardServer {
  readonly root: string;
  readonly url: string;
  readonly chat: SockJSRouter;
  readonly echo: SockJSRouter;
  /** An open SockJS websocket session on a service (`/chat` or `/echo`), after its open frame. */
  connect(service: 'chat' | 'echo'): Promise<WsClient>;
  close(): Promise<void>;
}

/** `GET api/snapshot` of the dashboard at `url`, parsed. */
export async function getSnapshot(url: string): Promise<DashboardSnapshot> {
  const r = await GET(url + 'api/snapshot');
  if (r.status !== 200) throw new Error('api/snapshot answered ' + r.status);
  return JSON.parse(r.body) as DashboardSnapshot;
}

/** An open SockJS websocket session on a service (`/chat` or `/echo`) of the server at `root`, after its open frame. */
export async function openSession(root: string, service: 'chat' | 'echo'): Promise<WsClient> {
  const ws = new WsClient(sessionUrl(root.replace('http', 'ws') + '/' + service) + '/websocket');
  if ((await ws.next()) !== 'o') throw new Error('no open frame');
  return ws;
}

/** `adapter` gives each service its adapter (default: this process only). */
export async function startDashboardServer(options?: DashboardOptions, adapter?: (service: 'chat' | 'echo') => Adapter): Promise<DashboardServer> {
  const app = express();
  const chat = sockjs({ disconnect_delay: 200, adapter: adapter?.('chat') });
  // "join:<room>" joins a room; anything else is echoed.
  chat.on('connection', (c) => c.on('data', (m) => (m.startsWith('join:') ? c.join(m.slice(5)) : c.write(m))));
  const echo = sockjs({ disconnect_delay: 200, adapter: adapter?.('echo') });
  echo.on('connection', (c) => c.on('data', (m) => c.write(m)));
  app.use('/chat', chat);
  app.use('/echo', echo);
  app.use('/admin/sockjs', dashboard({ chat, echo }, options));
  const server = http.createServer(app);
  chat.attach(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const root = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return {
    root,
    url: root + '/admin/sockjs/',
    chat,
    echo,
    connect: (service) => openSession(root, service),
    async close() {
      await Promise.all([chat.close(), echo.close()]);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A raw websocket on /echo that stops reading, and megabytes written to it until some stay buffered on the server. */
export async function stalledConsumer(s: Pick<DashboardServer, 'root' | 'echo'>): Promise<{ conn: Connection; ws: WebSocket }> {
  const ws = new WebSocket(s.root.replace('http', 'ws') + '/echo/websocket');
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  ws.pause();
  await waitUntil(() => [...s.echo.connections].some((c) => c.protocol === 'websocket-raw'), 'the raw session');
  const conn = [...s.echo.connections].find((c) => c.protocol === 'websocket-raw')!;
  // The kernel takes the first megabytes (loopback buffers grow to a few MB); then they pile up here.
  const chunk = 'y'.repeat(1 << 20);
  for (let i = 0; i < 12 && conn.bufferedAmount === 0; i++) {
    conn.write(chunk);
    await new Promise((resolve) => setImmediate(resolve));
  }
  if (conn.bufferedAmount === 0) throw new Error('12 MB written and nothing buffered for the stalled client');
  return { conn, ws };
}

/** The page at `url` in a new context of `browser`, with whatever it reported (errors, failed requests) kept for assertion messages. */
export async function openPage(browser: Browser, url: string): Promise<{ page: Page; problems: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push('pageerror: ' + e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push('console: ' + m.text());
  });
  page.on('response', (r) => {
    if (r.status() >= 400) problems.push(`response ${r.status()}: ${r.url()}`);
  });
  await page.goto(url, { waitUntil: 'load' });
  return { page, problems };
}
