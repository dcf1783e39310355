// Bench server for the application-shaped scenarios: socket.io 4 on a plain http.Server,
// websocket transport only, defaults except compression off. Events on the default namespace:
// `echo` (sent back), `rpc` and `join`/`chat` running bench/servers/app-logic.cjs, the chat on
// socket.io's own rooms. socket.io's parser does the JSON, so the app gets and gives objects.
// Plus GET /__mem. Run: PORT=8084 node --expose-gc bench/servers/app-sio.mjs
import { createRequire } from 'node:module';
import { Server } from 'socket.io';
import { benchHttpServer } from './common.mjs';

const require = createRequire(import.meta.url);
const { rpcReply, joinOf, envelope } = require('./app-logic.cjs');
const port = Number(process.env.PORT || 8084);
const server = benchHttpServer(() => io.engine.clientsCount, '/socket.io/');

const io = new Server(server, { transports: ['websocket'], perMessageDeflate: false, httpCompression: false });
io.on('connection', (socket) => {
  let me = null;
  socket.on('echo', (m) => socket.emit('echo', m));
  socket.on('rpc', (m) => {
    const reply = rpcReply(m);
    if (reply !== null) socket.emit('rpc', reply);
  });
  socket.on('join', (m) => {
    if (me !== null) return;
    me = joinOf(m);
    if (me === null) return;
    socket.join(me.room);
    socket.emit('joined', { joined: me.room });
  });
  socket.on('chat', (m) => {
    if (me === null) return;
    const env = envelope(me.name, me.room, m);
    if (env !== null) io.to(me.room).emit('chat', env);
  });
});
server.listen(port, '127.0.0.1', () => console.log(`listening ${port}`));
process.on('SIGTERM', () => process.exit(0));
