// Bench server for bench/express-floor.mjs: no SockJS at all, every request under /echo answered
// 204 at once, either straight from the http.Server (FLOOR=http), or through an Express app with
// that handler mounted at /echo (FLOOR=express): what Express itself costs per request. FLOOR=proto
// is the bare server plus the one thing Express does to every request first: switching the
// prototypes of req and res to the app's (Express's app.handle). FLOOR=born is the Express app on
// sockjs-express's expressServer(app), whose requests and responses are created with those
// prototypes (built dist/ needed).
// Run: PORT=8081 FLOOR=express node bench/servers/floor.mjs
import http from 'node:http';
import express from 'express';
import { expressServer } from '../../dist/esm/index.js';

const port = Number(process.env.PORT || 8081);
const answer = (req, res) => {
  res.writeHead(204, { 'Content-Type': 'text/plain; charset=UTF-8' });
  res.end();
};
let handler = answer;
if (process.env.FLOOR === 'proto') {
  const appRequest = Object.create(express.request);
  const appResponse = Object.create(express.response);
  handler = (req, res) => {
    Object.setPrototypeOf(req, appRequest);
    Object.setPrototypeOf(res, appResponse);
    answer(req, res);
  };
} else if (process.env.FLOOR === 'express' || process.env.FLOOR === 'born') {
  const app = express();
  app.disable('x-powered-by');
  app.use('/echo', answer);
  handler = app;
}
const server = process.env.FLOOR === 'born' ? expressServer(handler) : http.createServer(handler);
server.listen(port, '127.0.0.1', () => console.log(`listening ${port}`));
process.on('SIGTERM', () => process.exit(0));
