// Bench server for the idle xhr-streaming floor: no SockJS and no Express, a bare http.Server
// that opens an xhr_streaming "session" as a SockJS server does (200, the 2 KiB prelude, `o`) and
// holds the response open, keeping nothing of its own per request. What Node itself costs per
// held streaming request (socket, parser, request, response): the least any SockJS server on
// Node can hold. `npm run bench -- --only idle-xhr --servers ours,sockjs,floor` measures it.
// Run: PORT=8081 node --expose-gc bench/servers/http-floor.mjs
import http from 'node:http';
import { memReport } from './common.mjs';

const port = Number(process.env.PORT || 8081);
const OPENING = 'h'.repeat(2048) + '\no\n';
const HEADERS = {
  'Content-Type': 'application/javascript; charset=UTF-8',
  'Cache-Control': 'no-store, no-cache, no-transform, must-revalidate, max-age=0',
  'Access-Control-Allow-Origin': '*',
};
let open = 0;
function closed() {
  open--;
}

const server = http.createServer((req, res) => {
  if (req.url === '/__mem') {
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify(memReport({ sessions: open })));
  } else if (req.method === 'POST' && req.url.endsWith('/xhr_streaming')) {
    open++;
    res.on('close', closed);
    res.writeHead(200, HEADERS);
    res.write(OPENING);
  } else {
    res.writeHead(404);
    res.end();
  }
});
server.listen(port, '127.0.0.1', () => console.log(`listening ${port}`));
process.on('SIGTERM', () => process.exit(0));
