/**
 * The ESM and the CommonJS build loaded in one process (an ESM app with a CommonJS plugin, say):
 * they share one upgrade hook per server and each one's websocket route finds the handshakes the
 * other's hook took in (lib/registry.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { createRequire } from 'node:module';
import express from 'express';
import { WsClient, sessionUrl } from '../support/client.js';

type Factory = (options?: object) => express.Router & { attach(server: http.Server): unknown; close(): Promise<void>; on(e: 'connection', l: (c: { write(m: string): boolean; on(e: 'data', l: (m: string) => void): unknown }) => void): unknown };

test('dual package: ESM and CommonJS builds in one process share one upgrade hook, and websockets reach both', async () => {
  const esm = ((await import('../../dist/esm/index.js')) as { default: Factory }).default;
  const cjs = (createRequire(import.meta.url)('../../dist/cjs/main.js') as Factory);
  assert.notEqual(esm, cjs, 'two copies of the code are loaded');
  const app = express();
  const routers = { a: esm(), b: cjs() };
  for (const [name, r] of Object.entries(routers)) {
    r.on('connection', (c) => c.on('data', (m) => c.write(name + ':' + m)));
    app.use('/' + name, r);
  }
  const server = http.createServer(app);
  routers.a.attach(server);
  routers.b.attach(server);
  assert.equal(server.listenerCount('upgrade'), 1, 'one hook, whichever copy installed it');
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const ws = `ws://127.0.0.1:${(server.address() as { port: number }).port}`;
  try {
    for (const name of ['b', 'a']) {
      const c = new WsClient(sessionUrl(`${ws}/${name}`) + '/websocket');
      assert.equal(await c.next(), 'o');
      c.send('["hi"]');
      assert.equal(await c.next(), `a["${name}:hi"]`);
      c.close();
    }
  } finally {
    server.closeAllConnections();
    await Promise.all([routers.a.close(), routers.b.close()]);
    await new Promise<void>((r) => server.close(() => r()));
  }
});
