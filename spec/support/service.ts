/**
 * One sockjs() service mounted at /svc of an Express app on 127.0.0.1 (port 0), with the
 * connections it opened and their close events recorded: the set-up most tests start from.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type net from 'node:net';
import express from 'express';
import sockjs, { type Connection, type SockJSOptions, type SockJSRouter } from '../../lib/index.js';
import { WsClient, sessionUrl } from './client.js';

export interface TestService {
  readonly r: SockJSRouter;
  readonly app: express.Express;
  readonly server: http.Server;
  /** `http://127.0.0.1:<port>` */
  readonly root: string;
  /** The service's base URL, `<root>/svc`. */
  readonly url: string;
  /** The same with `ws:`. */
  readonly ws: string;
  /** Every connection the service opened, in order. */
  readonly conns: Connection[];
  /** Every 'close' event of those connections, in order. */
  readonly closes: [code: number, reason: string][];
  /** Resolves with the next connection the service opens. */
  nextConnection(): Promise<Connection>;
  /** A new framed websocket session, its `o` frame already read. */
  websocket(): Promise<WsClient>;
  /**
   * Drops every socket and closes the server. It starts r.close() but does not wait for it: a
   * session whose client is gone for good (a poll left behind) would hold it for
   * disconnect_delay. A test of close() itself awaits s.r.close().
   */
  close(): Promise<void>;
}

export async function startService(opts: SockJSOptions = {}, setup?: (r: SockJSRouter, app: express.Express) => void): Promise<TestService> {
  const app = express();
  const r = sockjs(opts);
  const conns: Connection[] = [];
  const closes: [number, string][] = [];
  r.on('connection', (c) => {
    conns.push(c);
    c.on('close', (code, reason) => closes.push([code, reason]));
  });
  setup?.(r, app);
  app.use('/svc', r);
  const server = http.createServer(app);
  // Upgraded (websocket) sockets leave the HTTP server's bookkeeping, so close() keeps its own.
  const sockets = new Set<net.Socket>();
  server.on('connection', (sock) => {
    sockets.add(sock);
    sock.once('close', () => sockets.delete(sock));
  });
  r.attach(server);
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  const root = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const ws = 'ws' + root.slice(4) + '/svc';
  return {
    r,
    app,
    server,
    root,
    url: root + '/svc',
    ws,
    conns,
    closes,
    nextConnection: () => new Promise((res) => r.once('connection', res)),
    async websocket() {
      const c = new WsClient(sessionUrl(ws) + '/websocket');
      assert.equal(await c.next(), 'o');
      return c;
    },
    async close() {
      void r.close();
      for (const sock of sockets) sock.destroy();
      await new Promise<void>((res) => server.close(() => res()));
    },
  };
}
