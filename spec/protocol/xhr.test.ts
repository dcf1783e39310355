/** xhr polling (`/xhr`) and sending (`/xhr_send`). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { OPTIONS, POST, rawExchange, sessionUrl, type Reply } from '../support/client.js';
import { ctype, serverForFile } from './helpers.js';

const srv = serverForFile();

const NO_CACHE = 'no-store, no-cache, no-transform, must-revalidate, max-age=0';

function assertNotCached(r: Reply): void {
  assert.equal(r.headers['cache-control'], NO_CACHE);
  assert.equal(r.headers.expires, undefined);
  assert.equal(r.headers['last-modified'], undefined);
}

function assertCorsFor(r: Reply, origin: string): void {
  assert.equal(r.headers['access-control-allow-origin'], origin);
  assert.equal(r.headers['access-control-allow-credentials'], 'true');
}

async function openSession(): Promise<string> {
  const url = sessionUrl(srv.url + '/echo');
  const r = await POST(url + '/xhr');
  assert.equal(r.body, 'o\n');
  return url;
}

test('xhr: a poll answers 200 application/javascript;charset=UTF-8, uncached, with CORS for the Origin', async () => {
  const url = sessionUrl(srv.url + '/echo');
  const r = await POST(url + '/xhr', { headers: { Origin: 'test' } });
  assert.equal(r.status, 200);
  assert.equal(r.body, 'o\n');
  assert.equal(ctype(r), 'application/javascript;charset=UTF-8');
  assertCorsFor(r, 'test');
  assertNotCached(r);
});

test('xhr_send: a JSON array of strings answers 204 with an empty text/plain;charset=UTF-8 body, uncached, with CORS', async () => {
  const url = await openSession();
  const r = await POST(url + '/xhr_send', { body: '["x"]', headers: { Origin: 'test' } });
  assert.equal(r.status, 204);
  assert.equal(r.body, '');
  assert.equal(ctype(r), 'text/plain;charset=UTF-8');
  assertCorsFor(r, 'test');
  assertNotCached(r);
  assert.equal((await POST(url + '/xhr')).body, 'a["x"]\n');
});

test('xhr and xhr_send: OPTIONS preflight answers 204, empty, cacheable for a year, Max-Age, Allow-Methods "OPTIONS, POST", CORS', async () => {
  for (const suffix of ['/xhr', '/xhr_send']) {
    for (const origin of ['test', 'null']) {
      const r = await OPTIONS(srv.url + '/echo/abc/abc' + suffix, { headers: { Origin: origin, 'Access-Control-Request-Method': 'POST' } });
      const what = `${suffix} from ${origin}`;
      assert.ok(r.status === 204 || r.status === 200, what + ': ' + r.status);
      assert.equal(r.body, '', what);
      const cc = r.headers['cache-control'] ?? '';
      assert.match(cc, /\bpublic\b/, what);
      const age = /max-age=(\d+)/.exec(cc);
      assert.ok(age !== null && Number(age[1]) >= 1_000_000, what + ': ' + cc);
      assert.ok(Date.parse(r.headers.expires ?? '') > Date.now(), what + ': Expires ' + r.headers.expires);
      assert.ok(Number(r.headers['access-control-max-age']) > 1_000_000, what);
      const methods = (r.headers['access-control-allow-methods'] ?? '').split(',').map((m) => m.trim());
      assert.ok(methods.includes('OPTIONS') && methods.includes('POST'), what + ': ' + methods.join());
      assertCorsFor(r, origin);
    }
  }
});

test('xhr: preflight echoes Access-Control-Request-Headers only when it is present and non-empty', async () => {
  const url = sessionUrl(srv.url + '/echo') + '/xhr';
  const base = { Origin: 'test', 'Access-Control-Request-Method': 'POST' };
  const asked = await OPTIONS(url, { headers: { ...base, 'Access-Control-Request-Headers': 'a, b, c' } });
  assertCorsFor(asked, 'test');
  assert.equal(asked.headers['access-control-allow-headers'], 'a, b, c');
  const empty = await OPTIONS(url, { headers: { ...base, 'Access-Control-Request-Headers': '' } });
  assertCorsFor(empty, 'test');
  assert.equal(empty.headers['access-control-allow-headers'], undefined);
  const none = await OPTIONS(url, { headers: base });
  assertCorsFor(none, 'test');
  assert.equal(none.headers['access-control-allow-headers'], undefined);
});

test('xhr_send: sending to a session that does not exist is 404', async () => {
  const r = await POST(sessionUrl(srv.url + '/echo') + '/xhr_send', { body: '["x"]' });
  assert.equal(r.status, 404);
  const r2 = await POST(srv.url + '/echo/000/bad_session/xhr_send', { body: '["x"]' });
  assert.equal(r2.status, 404);
});

test('xhr_send: a body that is not valid JSON answers 500 "Broken JSON encoding." and the session goes on', async () => {
  const url = await openSession();
  const r = await POST(url + '/xhr_send', { body: '["x' });
  assert.equal(r.status, 500);
  assert.ok(r.body.includes('Broken JSON encoding.'), r.body);
  assert.equal((await POST(url + '/xhr_send', { body: '["a"]' })).status, 204);
  assert.equal((await POST(url + '/xhr')).body, 'a["a"]\n');
});

test('xhr_send: an empty body answers 500 "Payload expected." and the session goes on', async () => {
  const url = await openSession();
  const r = await POST(url + '/xhr_send', { body: '' });
  assert.equal(r.status, 500);
  assert.ok(r.body.includes('Payload expected.'), r.body);
  assert.equal((await POST(url + '/xhr_send', { body: '["a"]' })).status, 204);
  assert.equal((await POST(url + '/xhr')).body, 'a["a"]\n');
});

test('xhr_send: the request Content-Type does not matter (json, xml, text, junk, none)', async () => {
  const url = await openSession();
  const types = ['text/plain', 'T', 'application/json', 'application/xml', '', 'application/json; charset=utf-8', 'text/xml; charset=utf-8', 'text/xml'];
  for (const t of types) {
    const r = await POST(url + '/xhr_send', { body: '["a"]', headers: { 'Content-Type': t } });
    assert.equal(r.status, 204, `Content-Type: ${t}`);
    assert.equal(r.body, '');
  }
  assert.equal((await POST(url + '/xhr')).body, 'a[' + types.map(() => '"a"').join(',') + ']\n');
});

test('xhr_send: "[]" (a frame with no messages) answers 204 and delivers nothing', async () => {
  const url = await openSession();
  const r = await POST(url + '/xhr_send', { body: '[]' });
  assert.equal(r.status, 204);
  assert.equal(r.body, '');
  assert.equal((await POST(url + '/xhr_send', { body: '["a"]' })).status, 204);
  assert.equal((await POST(url + '/xhr')).body, 'a["a"]\n');
});

test('xhr: a POST with no body and no Content-Length header opens a session normally', async () => {
  const path = `/echo/000/${randomUUID()}/xhr`;
  const out = await rawExchange(srv.port, `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1:${srv.port}\r\nConnection: close\r\n\r\n`, 3000);
  const [head, ...rest] = out.split('\r\n\r\n');
  assert.match(head!, /^HTTP\/1\.1 200 /);
  const body = rest.join('\r\n\r\n');
  // Content-Length or chunked framing; either way the payload is the open frame.
  assert.ok(body === 'o\n' || body === '2\r\no\n\r\n0\r\n\r\n', JSON.stringify(body));
});
