/**
 * Child process for spec/core/express-server.test.ts (run with --allow-natives-syntax): serves
 * 40 requests through an Express app on expressServer(app) and reports how many finished
 * responses (and requests) share their hidden class with the one before, and how many of them
 * V8 turned into dictionaries (slow properties).
 */
import http from 'node:http';
import express from 'express';
import { expressServer } from '../../lib/index.js';
import { waitUntil } from './wait.js';

// V8's intrinsic, reachable only with --allow-natives-syntax and only from code V8 parses itself.
const haveSameMap = new Function('a', 'b', 'return %HaveSameMap(a, b)') as (a: object, b: object) => boolean;
const hasFastProperties = new Function('o', 'return %HasFastProperties(o)') as (o: object) => boolean;

const app = express();
app.get('/x', (req, res) => {
  res.locals.seen = true;
  res.type('text').send(String(req.query.n ?? ''));
});
const server = expressServer(app);
const finished: Array<[http.IncomingMessage, http.ServerResponse]> = [];
server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
  res.on('finish', () => setImmediate(() => finished.push([req, res])));
});
server.listen(0, '127.0.0.1', async () => {
  const { port } = server.address() as { port: number };
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  for (let n = 0; n < 40; n++) {
    await new Promise<void>((resolve, reject) =>
      http.get({ port, host: '127.0.0.1', agent, path: `/x?n=${n}` }, (res) => res.resume().on('end', resolve)).on('error', reject),
    );
  }
  await waitUntil(() => finished.length >= 40, 'every response recorded');
  let sameRes = 0;
  let sameReq = 0;
  let dictionaries = 0;
  for (const [req, res] of finished) if (!hasFastProperties(req) || !hasFastProperties(res)) dictionaries++;
  for (let i = 1; i < finished.length; i++) {
    if (haveSameMap(finished[i - 1]![1], finished[i]![1])) sameRes++;
    if (haveSameMap(finished[i - 1]![0], finished[i]![0])) sameReq++;
  }
  console.log(JSON.stringify({ pairs: finished.length - 1, sameRes, sameReq, dictionaries }));
  agent.destroy();
  server.close();
});
