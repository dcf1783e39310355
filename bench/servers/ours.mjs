// Bench server: sockjs-express (this checkout's dist/, or the build BENCH_DIST names: see
// common.mjs, also for the variants' options). Serves /echo and /broadcast with the same
// settings as sockjs-node.cjs, plus GET /__mem (memory after a forced GC). The app
// is served by expressServer(app), as the README recommends, or with BENCH_MOUNT=listen by
// http.createServer(app), which is what app.listen() does.
// Run: PORT=8081 node --expose-gc bench/servers/ours.mjs
import http from 'node:http';
import express from 'express';
import { SETTINGS, importOurs, memReport, variantOptions } from './common.mjs';

const { default: sockjs, expressServer } = await importOurs('index.js');

const port = Number(process.env.PORT || 8081);
const app = express();
app.disable('x-powered-by');

app.get('/__mem', (req, res) => {
  res.setHeader('Content-Type', 'application/json');
  res.end(JSON.stringify(memReport({ sessions: echo.connections.size + bc.connections.size })));
});

const echo = sockjs({ ...SETTINGS, ...variantOptions(), log: () => {} });
echo.on('connection', (conn) => {
  conn.on('data', (msg) => conn.write(msg));
});
app.use('/echo', echo);

const bc = sockjs({ ...SETTINGS, ...variantOptions(), log: () => {} });
bc.on('connection', (conn) => {
  conn.on('data', (msg) => bc.broadcast(msg));
});
app.use('/broadcast', bc);

const server = process.env.BENCH_MOUNT === 'listen' ? http.createServer(app) : expressServer(app);
echo.attach(server);
bc.attach(server);
server.listen(port, '127.0.0.1', () => console.log(`listening ${port}`));
process.on('SIGTERM', () => process.exit(0));
