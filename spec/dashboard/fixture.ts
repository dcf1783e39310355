/** A server with two services (chat: rooms; echo) and the dashboard at /admin/sockjs, for the dashboard's tests. */
import http from 'node:http';
import express from 'express';
import sockjs, { type SockJSRouter } from '../../lib/index.js';
import { dashboard, type DashboardOptions } from '../../lib/dashboard.js';
import { WsClient, sessionUrl } from '../support/client.js';

export interface DashboardServer {
  readonly root: string;
  readonly url: string;
  readonly chat: SockJSRouter;
  readonly echo: SockJSRouter;
  /** An open SockJS websocket session on a service (`/chat` or `/echo`), after its open frame. */
  connect(service: 'chat' | 'echo'): Promise<WsClient>;
  close(): Promise<void>;
}

export async function startDashboardServer(options?: DashboardOptions): Promise<DashboardServer> {
  const app = express();
  const chat = sockjs({ disconnect_delay: 200 });
  // "join:<room>" joins a room; anything else is echoed.
  chat.on('connection', (c) => c.on('data', (m) => (m.startsWith('join:') ? c.join(m.slice(5)) : c.write(m))));
  const echo = sockjs({ disconnect_delay: 200 });
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
    async connect(service) {
      const ws = new WsClient(sessionUrl(root.replace('http', 'ws') + '/' + service) + '/websocket');
      if ((await ws.next()) !== 'o') throw new Error('no open frame');
      return ws;
    },
    async close() {
      await Promise.all([chat.close(), echo.close()]);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
