// Bench server: plain `ws`, the floor every websocket figure is compared with. Echoes every
// message on any path; on paths starting with /broadcast, sends each message to every client
// connected there. Plus GET /__mem. Run: PORT=8083 node --expose-gc bench/servers/ws.mjs
import { WebSocketServer } from 'ws';
import { benchHttpServer } from './common.mjs';

const port = Number(process.env.PORT || 8083);
const server = benchHttpServer(() => wss.clients.size);

const wss = new WebSocketServer({ server, perMessageDeflate: false });
const members = new Set();
wss.on('connection', (ws, req) => {
  if (req.url.startsWith('/broadcast')) {
    members.add(ws);
    ws.on('message', (data, isBinary) => {
      for (const c of members) c.send(data, { binary: isBinary });
    });
    ws.on('close', () => members.delete(ws));
  } else {
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  }
  ws.on('error', () => {});
});
server.listen(port, '127.0.0.1', () => console.log(`listening ${port}`));
process.on('SIGTERM', () => process.exit(0));
