// Bench server for the application-shaped scenarios: sockjs-node (npm `sockjs` 0.3.24) on a plain
// http.Server with the same services as app-ours.mjs (the standard test server's set plus /rpc and
// /chat on bench/servers/app-logic.cjs). sockjs-node has no rooms: a Map of Sets, as an app would
// keep them. Plus GET /__mem. Run: PORT=8082 node --expose-gc bench/servers/app-sockjs.cjs
'use strict';
const http = require('node:http');
const sockjs = require('sockjs');
const { memReport } = require('./mem.cjs');
const { rpcReply, parse, Rooms, chatMember } = require('./app-logic.cjs');

const port = Number(process.env.PORT || 8082);
const SETTINGS = { response_limit: 128 * 1024, heartbeat_delay: 25000, disconnect_delay: 5000 };
const base = { ...SETTINGS, sockjs_url: '/sockjs.js', log() {} };
let open = 0;
const mounts = [];
function mount(name, opts, setup) {
  const srv = sockjs.createServer({ ...base, ...opts });
  srv.on('connection', (conn) => {
    open++;
    conn.on('close', () => open--);
  });
  setup(srv);
  mounts.push([srv, '/' + name]);
}
const echo = (s) => s.on('connection', (conn) => conn.on('data', (m) => conn.write(m)));

mount('echo', { response_limit: 4096 }, echo);
mount('disabled_websocket_echo', { websocket: false }, echo);
mount('cookie_needed_echo', { jsessionid: true }, echo);
mount('close', {}, (s) => s.on('connection', (conn) => conn.close(3000, 'Go away!')));
mount('ticker', {}, (s) => s.on('connection', (conn) => {
  const t = setInterval(() => conn.write('tick!'), 1000);
  conn.on('close', () => clearInterval(t));
}));
const everyone = new Set();
mount('broadcast', {}, (s) => s.on('connection', (conn) => {
  everyone.add(conn);
  conn.on('data', (m) => {
    for (const c of everyone) c.write(m);
  });
  conn.on('close', () => everyone.delete(conn));
}));
mount('amplify', {}, (s) => s.on('connection', (conn) => conn.on('data', (m) => {
  let n = Number(m);
  if (!Number.isInteger(n) || n < 1 || n > 18) n = 1;
  conn.write('x'.repeat(Math.pow(2, n)));
})));
mount('rpc', {}, (s) => s.on('connection', (conn) => conn.on('data', (m) => {
  const reply = rpcReply(parse(m));
  if (reply !== null) conn.write(JSON.stringify(reply));
})));
const rooms = new Rooms();
const write = (conn, text) => conn.write(text);
mount('chat', {}, (s) => s.on('connection', (conn) => {
  const member = chatMember(rooms, conn, write);
  conn.on('data', member.data);
  conn.on('close', member.close);
}));

const server = http.createServer((req, res) => {
  if (req.url === '/__mem') {
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify(memReport({ sessions: open })));
    return;
  }
  if (req.url === '/sockjs.js') {
    res.setHeader('Content-Type', 'application/javascript');
    require('node:fs').createReadStream(require.resolve('sockjs-client/dist/sockjs.min.js')).pipe(res);
    return;
  }
  res.statusCode = 404;
  res.end();
});
for (const [srv, prefix] of mounts) srv.installHandlers(server, { prefix });
server.listen(port, '127.0.0.1', () => console.log(`listening ${port}`));
process.on('SIGTERM', () => process.exit(0));
