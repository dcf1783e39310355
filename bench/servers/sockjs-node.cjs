// Bench server: sockjs-node (npm `sockjs` 0.3.24) on a plain http.Server, the way sockjs-node is
// meant to be used. Serves /echo and /broadcast with the same settings as ours.mjs, plus GET /__mem.
// Run: PORT=8082 node --expose-gc bench/servers/sockjs-node.cjs
'use strict';
const http = require('node:http');
const sockjs = require('sockjs');
const { memReport } = require('./mem.cjs');

const port = Number(process.env.PORT || 8082);
// Same values as SETTINGS in common.mjs (sockjs-node's defaults, written out).
const SETTINGS = { response_limit: 128 * 1024, heartbeat_delay: 25000, disconnect_delay: 5000 };

const echo = sockjs.createServer({ ...SETTINGS, log() {} });
let echoOpen = 0;
echo.on('connection', (conn) => {
  echoOpen++;
  conn.on('data', (msg) => conn.write(msg));
  conn.on('close', () => echoOpen--);
});

// sockjs-node has no broadcast of its own: keep the open connections and write to each.
const bc = sockjs.createServer({ ...SETTINGS, log() {} });
const members = new Set();
bc.on('connection', (conn) => {
  members.add(conn);
  conn.on('data', (msg) => {
    for (const c of members) c.write(msg);
  });
  conn.on('close', () => members.delete(conn));
});

const server = http.createServer((req, res) => {
  if (req.url === '/__mem') {
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify(memReport({ sessions: echoOpen + members.size })));
    return;
  }
  res.statusCode = 404;
  res.end();
});
echo.installHandlers(server, { prefix: '/echo' });
bc.installHandlers(server, { prefix: '/broadcast' });
server.listen(port, '127.0.0.1', () => console.log(`listening ${port}`));
process.on('SIGTERM', () => process.exit(0));
