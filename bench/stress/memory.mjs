// Memory stress (not a test): opens and closes 50,000 sessions (websocket and xhr-polling, in
// bounded batches) against an in-process service, and checks that the heap after a full GC is
// within 10% of where it started. Exits 1 if not.
//
//   npm run build && node --expose-gc bench/stress/memory.mjs [sessions]
import http from 'node:http';
import express from 'express';
import WebSocket from 'ws';
import sockjs from '../../dist/esm/index.js';

if (typeof globalThis.gc !== 'function') {
  console.error('run with node --expose-gc');
  process.exit(2);
}
const TOTAL = Number(process.argv[2] ?? 50_000);
const BATCH = 100;

const app = express();
const service = sockjs({ disconnect_delay: 200, log: () => {} });
service.on('connection', (conn) => conn.on('data', (m) => conn.write(m)));
app.use('/echo', service);
const server = http.createServer(app);
service.attach(server);
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const port = server.address().port;
const agent = new http.Agent({ keepAlive: true, maxSockets: BATCH });

const post = (path, body) =>
  new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: 'POST', path, agent }, (res) => {
      let d = '';
      res.on('data', (c) => (d += c));
      res.on('end', () => resolve(d));
    });
    req.on('error', reject);
    req.end(body);
  });

async function websocketSession(i) {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/echo/000/w${i}/websocket`);
  await new Promise((resolve, reject) => {
    ws.on('error', reject);
    ws.on('message', (m) => {
      const s = m.toString();
      if (s === 'o') ws.send('["ping"]');
      else if (s.startsWith('a')) ws.close();
    });
    ws.on('close', resolve);
  });
}

async function pollingSession(i) {
  const base = `/echo/000/p${i}`;
  await post(base + '/xhr');
  await post(base + '/xhr_send', '["ping"]');
  await post(base + '/xhr');
  // Left to time out after disconnect_delay, as a client that goes away does.
}

const settle = async () => {
  await new Promise((r) => setTimeout(r, 800)); // timeouts and lingering sessions expire
  for (let i = 0; i < 4; i++) {
    globalThis.gc();
    await new Promise((r) => setImmediate(r));
  }
  return process.memoryUsage().heapUsed;
};

// Warm up first (5,000 sessions), so that the baseline includes optimised code and caches.
for (let i = 0; i < 5000; i += BATCH) await Promise.all(Array.from({ length: BATCH }, (_, k) => (k % 2 ? websocketSession(-i - k) : pollingSession(-i - k))));
const start = await settle();
const t0 = Date.now();
for (let i = 0; i < TOTAL; i += BATCH) {
  await Promise.all(Array.from({ length: BATCH }, (_, k) => ((i + k) % 2 ? websocketSession(i + k) : pollingSession(i + k))));
}
const end = await settle();
const growth = (end - start) / start;
console.log(JSON.stringify({
  sessions: TOTAL,
  seconds: (Date.now() - t0) / 1000,
  heap_start_kib: Math.round(start / 1024),
  heap_end_kib: Math.round(end / 1024),
  growth_percent: +(growth * 100).toFixed(2),
  open_sessions_left: service.connections.size,
}));
agent.destroy();
server.closeAllConnections();
server.close();
process.exit(Math.abs(growth) <= 0.1 && service.connections.size === 0 ? 0 : 1);
