// Bench server: sockjs-express installed straight on an http.Server, exactly as sockjs-node is
// (through sockjs-express/compat's installHandlers), with no Express app in front: the
// library's own cost, like for like. `npm run bench -- --mount http` uses it for "ours".
// Run: PORT=8081 node --expose-gc bench/servers/ours-http.mjs
import http from 'node:http';
import { SETTINGS, importOurs, memReport, variantOptions } from './common.mjs';

const { default: compat } = await importOurs('compat.js');

const port = Number(process.env.PORT || 8081);
const server = http.createServer((req, res) => {
  if (req.url === '/__mem') {
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify(memReport({ sessions: 0 })));
    return;
  }
  res.statusCode = 404;
  res.end();
});

const echo = compat.createServer({ ...SETTINGS, ...variantOptions(), log: () => {} });
echo.on('connection', (conn) => conn.on('data', (msg) => conn.write(msg)));
echo.installHandlers(server, { prefix: '/echo' });

const bc = compat.createServer({ ...SETTINGS, ...variantOptions(), log: () => {} });
const clients = new Set();
bc.on('connection', (conn) => {
  clients.add(conn);
  conn.on('data', (msg) => {
    for (const c of clients) c.write(msg);
  });
  conn.on('close', () => clients.delete(conn));
});
bc.installHandlers(server, { prefix: '/broadcast' });

server.listen(port, '127.0.0.1', () => console.log(`listening ${port}`));
process.on('SIGTERM', () => process.exit(0));
