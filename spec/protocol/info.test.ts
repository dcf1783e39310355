/** `/info`: capabilities and entropy, CORS, and its preflight. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GET, OPTIONS, type Reply } from '../support/client.js';
import { ctype, serverForFile } from './helpers.js';

const srv = serverForFile();

const NO_CACHE = 'no-store, no-cache, no-transform, must-revalidate, max-age=0';

function json(r: Reply): Record<string, unknown> {
  return JSON.parse(r.body) as Record<string, unknown>;
}

test('info: GET answers 200 application/json;charset=UTF-8 with websocket, cookie_needed, origins ["*:*"] and an entropy integer, no cookie', async () => {
  const r = await GET(srv.url + '/echo/info');
  assert.equal(r.status, 200);
  assert.equal(ctype(r), 'application/json;charset=UTF-8');
  assert.equal(r.headers['set-cookie'], undefined);
  const data = json(r);
  assert.equal(data.websocket, true);
  assert.equal(data.cookie_needed, false);
  assert.deepEqual(data.origins, ['*:*']);
  const e = data.entropy;
  assert.ok(typeof e === 'number' && Number.isInteger(e) && e >= 0 && e <= 2 ** 32 - 1, 'entropy in [0, 2^32-1]: ' + String(e));
});

test('info: a cache-busting query string (?t=...) is ignored', async () => {
  const r = await GET(srv.url + '/echo/info?t=1234567');
  assert.equal(r.status, 200);
  assert.equal(ctype(r), 'application/json;charset=UTF-8');
  assert.deepEqual(json(r).origins, ['*:*']);
});

test('info: entropy differs from one call to the next', async () => {
  const a = json(await GET(srv.url + '/echo/info')).entropy;
  const b = json(await GET(srv.url + '/echo/info')).entropy;
  assert.equal(typeof a, 'number');
  assert.equal(typeof b, 'number');
  assert.notEqual(a, b);
});

test('info: never cached (exact no-cache Cache-Control, no Expires, no Last-Modified)', async () => {
  const r = await GET(srv.url + '/echo/info');
  assert.equal(r.headers['cache-control'], NO_CACHE);
  assert.equal(r.headers.expires, undefined);
  assert.equal(r.headers['last-modified'], undefined);
});

test('info: CORS echoes the Origin with credentials allowed, and answers "*" without credentials when there is no Origin', async () => {
  const r = await GET(srv.url + '/echo/info', { headers: { Origin: 'test' } });
  assert.equal(r.headers['access-control-allow-origin'], 'test');
  assert.equal(r.headers['access-control-allow-credentials'], 'true');
  const anon = await GET(srv.url + '/echo/info');
  assert.equal(anon.headers['access-control-allow-origin'], '*');
  assert.equal(anon.headers['access-control-allow-credentials'], undefined);
});

test('info: the origin "null" (file:// pages) is echoed as "null"', async () => {
  const r = await GET(srv.url + '/echo/info', { headers: { Origin: 'null' } });
  assert.equal(r.status, 200);
  assert.equal(r.headers['access-control-allow-origin'], 'null');
  const pre = await OPTIONS(srv.url + '/echo/info', { headers: { Origin: 'null', 'Access-Control-Request-Method': 'POST' } });
  assert.equal(pre.status, 204);
  assert.equal(pre.body, '');
  assert.equal(pre.headers['access-control-allow-origin'], 'null');
});

test('info: OPTIONS preflight answers 204, empty, cacheable for a year, with Max-Age, Allow-Methods "OPTIONS, GET" and CORS', async () => {
  for (const origin of ['test', 'null']) {
    const r = await OPTIONS(srv.url + '/echo/info', { headers: { Origin: origin, 'Access-Control-Request-Method': 'GET' } });
    assert.equal(r.status, 204);
    assert.equal(r.body, '');
    const cc = r.headers['cache-control'] ?? '';
    assert.match(cc, /\bpublic\b/);
    const age = /max-age=(\d+)/.exec(cc);
    assert.ok(age !== null && Number(age[1]) >= 1_000_000, cc);
    assert.ok(Date.parse(r.headers.expires ?? '') > Date.now() + 1_000_000_000, 'Expires: ' + r.headers.expires);
    assert.ok(Number(r.headers['access-control-max-age']) > 1_000_000, 'Access-Control-Max-Age: ' + r.headers['access-control-max-age']);
    const methods = (r.headers['access-control-allow-methods'] ?? '').split(',').map((m) => m.trim());
    assert.ok(methods.includes('OPTIONS') && methods.includes('GET'), 'Allow-Methods: ' + methods.join());
    assert.equal(r.headers['access-control-allow-origin'], origin);
    assert.equal(r.headers['access-control-allow-credentials'], 'true');
  }
});

test('info: preflight echoes Access-Control-Request-Headers as Allow-Headers only when it is present and non-empty', async () => {
  const base = { Origin: 'test', 'Access-Control-Request-Method': 'GET' };
  const asked = await OPTIONS(srv.url + '/echo/info', { headers: { ...base, 'Access-Control-Request-Headers': 'a, b, c' } });
  assert.equal(asked.headers['access-control-allow-headers'], 'a, b, c');
  const empty = await OPTIONS(srv.url + '/echo/info', { headers: { ...base, 'Access-Control-Request-Headers': '' } });
  assert.equal(empty.headers['access-control-allow-headers'], undefined);
  const none = await OPTIONS(srv.url + '/echo/info', { headers: base });
  assert.equal(none.headers['access-control-allow-headers'], undefined);
});

test('info: a service with websockets disabled says websocket: false', async () => {
  const r = await GET(srv.url + '/disabled_websocket_echo/info');
  assert.equal(r.status, 200);
  assert.equal(json(r).websocket, false);
});
