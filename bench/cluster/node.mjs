// One server process of the fan-out benchmark (bench/cluster/fanout.mjs): sockjs-express from
// dist/, mounted in an Express app, with a /broadcast service whose sessions only receive
// (nothing is echoed). Control endpoints:
//   POST /__burst?n=K&size=S&mode=spread|tick  calls router.broadcast() K times with an S-byte
//        message ('x' * S); `spread` issues one broadcast per event-loop turn (each flushed on its
//        own, as K unrelated events would), `tick` issues all K in one synchronous loop (coalesced
//        into one frame per session). Answers when the K calls are made: { issue_ms, local }.
//   GET  /__stats  { name, sessions, adapter_errors }
//
//   NAME=n1 PORT=3001 REDIS_URL=redis://127.0.0.1:6379 node bench/cluster/node.mjs
// Without REDIS_URL the service keeps the default (local) adapter.
// With WATCH_STDIN=1 the process exits when its stdin closes (its parent is gone).
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import express from 'express';
import sockjs from '../../dist/esm/index.js';
import { redisAdapter } from '../../dist/esm/redis.js';
import { SETTINGS } from '../servers/common.mjs';

const name = process.env.NAME ?? 'node';
const port = Number(process.env.PORT || 3001);
const redisUrl = process.env.REDIS_URL || '';
const channel = process.env.CHANNEL || 'bench-fanout';

let adapterErrors = 0;
const router = sockjs({
  ...SETTINGS,
  ...(redisUrl ? { adapter: redisAdapter({ url: redisUrl, channel }) } : {}),
  log: (severity, message) => {
    if (severity === 'error' || severity === 'warn') process.stderr.write(`[${name}] ${severity}: ${message}\n`);
  },
});
router.on('adapter_error', () => adapterErrors++);

const app = express();
app.disable('x-powered-by');
app.use('/broadcast', router);

app.get('/__stats', (req, res) => {
  res.json({ name, sessions: router.connections.size, adapter_errors: adapterErrors, redis: redisUrl !== '' });
});

app.post('/__burst', (req, res) => {
  const n = Number(req.query.n ?? 1);
  const size = Number(req.query.size ?? 32);
  const mode = String(req.query.mode ?? 'spread');
  if (!Number.isInteger(n) || n < 1 || !Number.isInteger(size) || size < 1 || (mode !== 'spread' && mode !== 'tick')) {
    res.status(400).json({ error: 'n and size are positive integers, mode is spread or tick' });
    return;
  }
  // 'x' only: the load generator counts messages by their quotes, without parsing.
  const message = 'x'.repeat(size);
  const t0 = performance.now();
  let local = 0;
  const finish = () => res.json({ issue_ms: performance.now() - t0, local });
  if (mode === 'tick') {
    for (let i = 0; i < n; i++) local += router.broadcast(message);
    finish();
    return;
  }
  let i = 0;
  const step = () => {
    local += router.broadcast(message);
    if (++i < n) setImmediate(step);
    else finish();
  };
  step();
});

const server = http.createServer(app);
router.attach(server);
server.listen(port, '127.0.0.1', () => process.stdout.write(`listening ${port}\n`));

const quit = () => process.exit(0);
process.on('SIGTERM', quit);
process.on('SIGINT', quit);
if (process.env.WATCH_STDIN === '1') {
  process.stdin.on('end', quit);
  process.stdin.on('error', quit);
  process.stdin.resume();
}
