/**
 * The server side of the recovery tests: a service with `recovery` on whose connections are sent
 * `S0`, `S1`, … at a steady rate (alternately written and sent to a room of their own) and record what their client sends, checking the order as it
 * comes, behind a chaos proxy.
 */
import express from 'express';
import http from 'node:http';
import sockjs, { type Connection, type SockJSOptions, type SockJSRouter } from '../../lib/index.js';
import { startChaosProxy, type ChaosProxy } from '../support/chaos-proxy.js';
import { Inbox } from '../support/inbox.js';
import { SOCKJS_CLIENT_BUNDLE } from '../support/test-server.js';
import WebSocket from 'ws';

export interface Peer {
  conn: Connection;
  /** Messages received, in order. */
  got: string[];
  /** Messages written. */
  sent: number;
  resumes: number;
  closed: { code: number; reason: string } | null;
}

export interface RecoveryApp {
  readonly router: SockJSRouter;
  readonly proxy: ChaosProxy;
  readonly peers: Peer[];
  /** The service's URL through the proxy. */
  readonly url: string;
  /** The server's own URL (no proxy). */
  readonly directUrl: string;
  /** Stops every connection's writing. */
  stopWriting(): void;
  close(): Promise<void>;
}

export async function startRecoveryApp(options: SockJSOptions, ratePerSecond = 100, pages: Record<string, string> = {}): Promise<RecoveryApp> {
  const app = express();
  app.get('/sockjs.js', (_req, res) => res.type('application/javascript').sendFile(SOCKJS_CLIENT_BUNDLE));
  app.get('/client.js', (_req, res) => res.type('application/javascript').sendFile(new URL('../../dist/browser/sockjs-express-client.js', import.meta.url).pathname));
  for (const [path, body] of Object.entries(pages)) app.get(path, (_req, res) => res.type('html').send(body));
  const router = sockjs({ sockjs_url: '/sockjs.js', ...options });
  const peers: Peer[] = [];
  const timers = new Set<NodeJS.Timeout>();
  router.on('connection', (conn) => {
    const peer: Peer = { conn, got: [], sent: 0, resumes: 0, closed: null };
    peers.push(peer);
    conn.on('data', (m) => peer.got.push(m));
    conn.on('resume', () => peer.resumes++);
    // Every other message goes through a room the connection is alone in: room sends take
    // another way to the session (straight to the carrier, and kept as shared runs).
    const room = 'own:' + conn.id;
    conn.join(room);
    const timer = setInterval(() => {
      const m = 'S' + peer.sent++;
      if (peer.sent % 2 === 0) router.to(room).send(m);
      else conn.write(m);
    }, 1000 / ratePerSecond);
    timers.add(timer);
    conn.on('close', (code, reason) => {
      peer.closed = { code, reason };
      clearInterval(timer);
      timers.delete(timer);
    });
  });
  app.use('/chat', router);
  const server = http.createServer(app);
  router.attach(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const proxy = await startChaosProxy(port);
  const stopWriting = (): void => {
    for (const t of timers) clearInterval(t);
    timers.clear();
  };
  return {
    router,
    proxy,
    peers,
    url: `http://127.0.0.1:${proxy.port}/chat`,
    directUrl: `http://127.0.0.1:${port}/chat`,
    stopWriting,
    async close() {
      stopWriting();
      await proxy.close();
      await router.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** `prefix0`, `prefix1`, … `prefix(n-1)`. */
export function sequence(prefix: string, n: number): string[] {
  return Array.from({ length: n }, (_, i) => prefix + i);
}

/**
 * A framed SockJS websocket asking for recovery, that hands over each message as it comes (the
 * wire format by hand); `query` is added to its URL's.
 */
export async function session(
  base: string,
  query = '',
): Promise<{ next(): Promise<string>; send(...m: string[]): void; closeFrame(): Promise<string | null>; close(): Promise<void> }> {
  const ws = new WebSocket(base.replace('http', 'ws') + '/000/' + Math.random().toString(36).slice(2) + '/websocket?sockjs-recovery=1' + query);
  const inbox = new Inbox<string>();
  let closeFrame: string | null = null;
  ws.on('message', (d) => {
    const f = d.toString();
    if (f.startsWith('a')) for (const m of JSON.parse(f.slice(1)) as string[]) inbox.push(m);
    else if (f.startsWith('c')) closeFrame = f;
  });
  // A refused handshake (503 at max_sessions) rejects.
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  return {
    next() {
      return inbox.next(10_000, () => new Error('no message from the recovery session within 10 s'));
    },
    /** Several messages go in one SockJS frame (the server handles them in one go). */
    send(...m) {
      ws.send(JSON.stringify(m));
    },
    /** The server's close frame, once the websocket has closed (null: none came, or none within 10 s). */
    closeFrame() {
      return new Promise<string | null>((resolve) => {
        const timer = setTimeout(() => ws.terminate(), 10_000);
        const done = (): void => {
          clearTimeout(timer);
          resolve(closeFrame);
        };
        if (ws.readyState === WebSocket.CLOSED) done();
        else ws.once('close', done);
      });
    },
    close() {
      return new Promise<void>((r) => {
        if (ws.readyState === WebSocket.CLOSED) return r();
        ws.once('close', () => r());
        ws.terminate();
      });
    },
  };
}

export const ctl = (o: object): string => '\u0000' + JSON.stringify(o);
export const parse = (m: string): Record<string, unknown> => JSON.parse(m.slice(1)) as Record<string, unknown>;
