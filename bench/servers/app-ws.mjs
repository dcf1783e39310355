// Bench server for the application-shaped scenarios: plain `ws`, the floor. The path picks the
// app: /rpc and /chat run bench/servers/app-logic.cjs (rooms as a Map of Sets), anything else
// echoes. Plus GET /__mem. Run: PORT=8083 node --expose-gc bench/servers/app-ws.mjs
import { createRequire } from 'node:module';
import { WebSocketServer } from 'ws';
import { benchHttpServer } from './common.mjs';

const require = createRequire(import.meta.url);
const { rpcReply, parse, Rooms, chatMember } = require('./app-logic.cjs');
const port = Number(process.env.PORT || 8083);
const server = benchHttpServer(() => wss.clients.size);

const rooms = new Rooms();
const send = (ws, text) => ws.send(text);
function chat(ws) {
  const member = chatMember(rooms, ws, send);
  ws.on('message', (data) => member.data(data.toString()));
  ws.on('close', member.close);
}

const wss = new WebSocketServer({ server, perMessageDeflate: false });
wss.on('connection', (ws, req) => {
  if (req.url.startsWith('/rpc')) {
    ws.on('message', (data) => {
      const reply = rpcReply(parse(data.toString()));
      if (reply !== null) ws.send(JSON.stringify(reply));
    });
  } else if (req.url.startsWith('/chat')) chat(ws);
  else ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  ws.on('error', () => {});
});
server.listen(port, '127.0.0.1', () => console.log(`listening ${port}`));
process.on('SIGTERM', () => process.exit(0));
