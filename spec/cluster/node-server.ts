/**
 * One node of the cluster test: an Express app with a /broadcast service whose messages go to
 * every session on every node (through Redis). Each session first gets `node:<NAME>`, so the
 * test can see where haproxy put it. It also serves the browser page (/cluster.html, see
 * page.ts) and sockjs-client's bundle, so the page and the sessions share one origin: haproxy's.
 *
 * /recover is the same with `recovery` on (cross-process, through a Redis Stream), for the
 * companion client: a client sends `join:<room>`, `say:<room>:<text>` (to the room) or
 * `direct:<text>` (written back to it alone); GET /pub?room=&m= sends to a room from this node,
 * GET /events lists what this node's app saw ('connection', and 'resume' with its info).
 *   NAME=n1 PORT=3001 REDIS_URL=redis://… tsx node-server.ts
 */
import express from 'express';
import http from 'node:http';
import { createRequire } from 'node:module';
import sockjs from '../../lib/index.js';
import { redisAdapter } from '../../lib/redis.js';
import { CLUSTER_PAGE } from './page.js';

const require = createRequire(import.meta.url);
const name = process.env.NAME ?? 'node';
const app = express();
app.get('/sockjs.js', (_req, res) => res.type('application/javascript').sendFile(require.resolve('sockjs-client/dist/sockjs.min.js')));
app.get('/cluster.html', (_req, res) => res.type('html').set('Cache-Control', 'no-store').send(CLUSTER_PAGE));
const router = sockjs({
  sockjs_url: '/sockjs.js',
  adapter: redisAdapter({ url: process.env.REDIS_URL, channel: 'cluster-test' }),
  log: () => {},
});
const trace = process.env.CLUSTER_TRACE ? (s: string) => process.stdout.write(`${Date.now()} ${name} ${s}\n`) : null;
router.on('connection', (conn) => {
  trace?.(`open ${conn.id} ${conn.protocol}`);
  conn.write('node:' + name);
  conn.on('data', (m) => {
    trace?.(`data ${conn.id} ${m}`);
    router.broadcast(m);
  });
  conn.on('close', () => trace?.(`close ${conn.id}`));
});
app.use('/broadcast', router);

app.get('/client.js', (_req, res) => res.type('application/javascript').sendFile(new URL('../../dist/browser/sockjs-express-client.js', import.meta.url).pathname));
const recover = sockjs({
  sockjs_url: '/sockjs.js',
  recovery: { window_ms: Number(process.env.WINDOW_MS ?? 60_000) },
  adapter: redisAdapter({ url: process.env.REDIS_URL, channel: 'cluster-recovery' }),
  log: () => {},
});
const events: Record<string, unknown>[] = [];
recover.on('connection', (conn) => {
  events.push({ event: 'connection', id: conn.id, rooms: [...conn.rooms] });
  conn.write('node:' + name);
  conn.on('data', (m) => {
    if (m.startsWith('join:')) conn.join(m.slice(5));
    else if (m.startsWith('say:')) {
      const i = m.indexOf(':', 4);
      recover.to(m.slice(4, i)).send(m.slice(i + 1));
    } else if (m.startsWith('direct:')) conn.write(m);
  });
  conn.on('resume', (info) => events.push({ event: 'resume', id: conn.id, ...info }));
});
app.get('/pub', (req, res) => {
  recover.to(String(req.query.room)).send(String(req.query.m));
  res.end('ok');
});
app.get('/events', (_req, res) => res.json(events));
app.use('/recover', recover);
const server = http.createServer(app);
router.attach(server);
recover.attach(server);
server.listen(Number(process.env.PORT), '127.0.0.1', () => process.stdout.write('ready\n'));
