/**
 * One node of the cluster test: an Express app with a /broadcast service whose messages go to
 * every session on every node (through Redis). Each session first gets `node:<NAME>`, so the
 * test can see where haproxy put it.   NAME=n1 PORT=3001 REDIS_URL=redis://… tsx node-server.ts
 */
import express from 'express';
import http from 'node:http';
import sockjs from '../../lib/index.js';
import { redisAdapter } from '../../lib/redis.js';

const name = process.env.NAME ?? 'node';
const app = express();
const router = sockjs({ adapter: redisAdapter({ url: process.env.REDIS_URL, channel: 'cluster-test' }), log: () => {} });
router.on('connection', (conn) => {
  conn.write('node:' + name);
  conn.on('data', (m) => router.broadcast(m));
});
app.use('/broadcast', router);
const server = http.createServer(app);
router.attach(server);
server.listen(Number(process.env.PORT), '127.0.0.1', () => process.stdout.write('ready\n'));
