// Bench server for the application-shaped scenarios (rpc, chat, storm, app-churn): sockjs-express
// as "the standard test server with all its services mounted" (spec/support/test-server.ts: echo,
// disabled_websocket_echo, cookie_needed_echo, close, ticker, broadcast, amplify, /sockjs.js),
// plus /rpc and /chat running bench/servers/app-logic.cjs, in one Express app served by
// expressServer(app) (BENCH_MOUNT=listen: http.createServer(app)). Plus GET /__mem. The build and
// the variants' options (recovery, compression) come from common.mjs.
// Run: PORT=8081 node --expose-gc bench/servers/app-ours.mjs
import http from 'node:http';
import { createRequire } from 'node:module';
import express from 'express';
import { SETTINGS, importOurs, memReport, variantOptions } from './common.mjs';

const { default: sockjs, expressServer } = await importOurs('index.js');

const require = createRequire(import.meta.url);
const { rpcReply, joinOf, envelope, parse } = require('./app-logic.cjs');
const port = Number(process.env.PORT || 8081);
const app = express();
app.disable('x-powered-by');
const services = [];

app.get('/__mem', (req, res) => {
  let sessions = 0;
  for (const s of services) sessions += s.connections.size;
  res.setHeader('Content-Type', 'application/json');
  res.end(JSON.stringify(memReport({ sessions })));
});
app.get('/sockjs.js', (req, res) => {
  res.type('application/javascript');
  res.sendFile(require.resolve('sockjs-client/dist/sockjs.min.js'));
});

const base = { ...SETTINGS, ...variantOptions(), sockjs_url: '/sockjs.js', hixie76: true, log: () => {} };
function mount(name, opts, setup) {
  const router = sockjs({ ...base, ...opts });
  setup(router);
  services.push(router);
  app.use('/' + name, router);
}
const echo = (r) => r.on('connection', (conn) => conn.on('data', (m) => conn.write(m)));

mount('echo', { response_limit: 4096 }, echo);
mount('disabled_websocket_echo', { disabled_transports: ['websocket'] }, echo);
mount('cookie_needed_echo', { cookie_needed: true }, echo);
mount('close', {}, (r) => r.on('connection', (conn) => conn.close(3000, 'Go away!')));
mount('ticker', {}, (r) => r.on('connection', (conn) => {
  const t = setInterval(() => conn.write('tick!'), 1000);
  conn.on('close', () => clearInterval(t));
}));
mount('broadcast', {}, (r) => r.on('connection', (conn) => conn.on('data', (m) => r.broadcast(m))));
mount('amplify', {}, (r) => r.on('connection', (conn) => conn.on('data', (m) => {
  let n = Number(m);
  if (!Number.isInteger(n) || n < 1 || n > 18) n = 1;
  conn.write('x'.repeat(2 ** n));
})));
mount('rpc', {}, (r) => r.on('connection', (conn) => conn.on('data', (m) => {
  const reply = rpcReply(parse(m));
  if (reply !== null) conn.write(JSON.stringify(reply));
})));
mount('chat', {}, (r) => r.on('connection', (conn) => {
  let me = null;
  conn.on('data', (m) => {
    const msg = parse(m);
    if (me === null) {
      me = joinOf(msg);
      if (me === null) return;
      conn.join(me.room);
      conn.write(JSON.stringify({ joined: me.room }));
      return;
    }
    const env = envelope(me.name, me.room, msg);
    if (env !== null) r.to(me.room).send(JSON.stringify(env));
  });
}));

const server = process.env.BENCH_MOUNT === 'listen' ? http.createServer(app) : expressServer(app);
for (const s of services) s.attach(server);
server.listen(port, '127.0.0.1', () => console.log(`listening ${port}`));
process.on('SIGTERM', () => process.exit(0));
