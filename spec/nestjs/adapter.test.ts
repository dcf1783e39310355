/**
 * SockJSAdapter's own rules, on a plain Express app and server shaped like Nest's (the Nest
 * application itself is in gateway.test.ts): per-path options and adapters, one service per path.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import express from 'express';
import { LocalAdapter } from '../../lib/index.js';
import { SockJSAdapter } from '../../lib/nestjs.js';

function nestLike() {
  const app = express();
  const server = createServer(app);
  return { getHttpServer: () => server, getHttpAdapter: () => ({ getInstance: () => app }) };
}

test('nestjs adapter: one service per path; `sockjs` as a function of the path gives each path its options', () => {
  const asked: string[] = [];
  const adapter = new SockJSAdapter(nestLike(), {
    path: 'default/',
    sockjs: (path) => {
      asked.push(path);
      return { adapter: new LocalAdapter(), heartbeat_delay: path === '/a' ? 1000 : 2000 };
    },
  });
  const a = adapter.create(0, { path: '/a/' });
  assert.equal(adapter.create(0, { path: 'a' }), a, '/a/, a and /a are one path');
  const b = adapter.create(0, { path: '/b', sockjs: { heartbeat_delay: 3000 } });
  const d = adapter.create(0, {});
  assert.deepEqual(asked, ['/a', '/b', '/default']);
  assert.equal(a.config.heartbeat_delay, 1000);
  assert.equal(b.config.heartbeat_delay, 3000, 'the gateway\'s own option wins');
  assert.equal(d.config.heartbeat_delay, 2000);
  assert.notEqual(a.config.adapter, b.config.adapter);
});

test('nestjs adapter: one adapter object for two paths is refused with a clear error', () => {
  const shared = new LocalAdapter();
  const adapter = new SockJSAdapter(nestLike(), { sockjs: { adapter: shared } });
  adapter.create(0, { path: '/a' });
  assert.throws(() => adapter.create(0, { path: '/b' }), /the path \/b would share another path's adapter/);
  assert.throws(() => new SockJSAdapter(nestLike(), { sockjs: 5 as never }), /option sockjs must be sockjs\(\) options or a function/);
  assert.throws(() => adapter.create(1.5, {}), /port must be an integer from 0 to 65535/);
  // At '/', the service would answer every request of the application in place of Nest.
  assert.throws(() => adapter.create(0, { path: '/' }), /needs a path other than '\/'/);
});
