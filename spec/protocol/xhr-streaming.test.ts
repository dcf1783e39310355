/** xhr streaming (`/xhr_streaming`): one long response carrying many frames. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OPTIONS, POST, Stream, sessionUrl } from '../support/client.js';
import { ctype, PRELUDE, Reader, serverForFile } from './helpers.js';

const srv = serverForFile();


test('xhr_streaming: 200 application/javascript;charset=UTF-8, uncached, CORS; exactly 2048 "h" and a newline come before "o"', async () => {
  const url = sessionUrl(srv.url + '/echo');
  const r = new Reader(new Stream('POST', url + '/xhr_streaming', { headers: { Origin: 'test' } }));
  await r.opened();
  assert.equal(r.status, 200);
  assert.equal(ctype(r), 'application/javascript;charset=UTF-8');
  assert.equal(r.headers['cache-control'], 'no-store, no-cache, no-transform, must-revalidate, max-age=0');
  assert.equal(r.headers.expires, undefined);
  assert.equal(r.headers['access-control-allow-origin'], 'test');
  assert.equal(r.headers['access-control-allow-credentials'], 'true');
  assert.equal(await r.until('\n'), PRELUDE);
  assert.equal(await r.until('\n'), 'o\n');
  r.close();
});

test('xhr_streaming: messages sent with xhr_send arrive on the open stream as a[...] lines', async () => {
  const url = sessionUrl(srv.url + '/echo');
  const r = new Reader(new Stream('POST', url + '/xhr_streaming'));
  assert.equal(await r.until('\n'), PRELUDE);
  assert.equal(await r.until('\n'), 'o\n');
  for (const m of ['x', 'y']) {
    const sent = await POST(url + '/xhr_send', { body: JSON.stringify([m]) });
    assert.equal(sent.status, 204);
    assert.equal(sent.body, '');
    assert.equal(await r.until('\n'), `a["${m}"]\n`);
  }
  r.close();
});

test('xhr_streaming: OPTIONS preflight answers 204, cacheable for a year, with Allow-Methods "OPTIONS, POST" and CORS', async () => {
  const r = await OPTIONS(srv.url + '/echo/abc/abc/xhr_streaming', { headers: { Origin: 'test', 'Access-Control-Request-Method': 'POST' } });
  assert.ok(r.status === 204 || r.status === 200, String(r.status));
  assert.equal(r.body, '');
  assert.match(r.headers['cache-control'] ?? '', /\bpublic\b/);
  const age = /max-age=(\d+)/.exec(r.headers['cache-control'] ?? '');
  assert.ok(age !== null && Number(age[1]) >= 1_000_000);
  assert.ok(r.headers.expires);
  assert.ok(Number(r.headers['access-control-max-age']) > 1_000_000);
  const methods = (r.headers['access-control-allow-methods'] ?? '').split(',').map((m) => m.trim());
  assert.ok(methods.includes('OPTIONS') && methods.includes('POST'), methods.join());
  assert.equal(r.headers['access-control-allow-origin'], 'test');
});

test('xhr_streaming: the response ends right after the frame that takes it past response_limit (4096), prelude not counted', async () => {
  const url = sessionUrl(srv.url + '/echo');
  const r = new Reader(new Stream('POST', url + '/xhr_streaming'));
  assert.equal(await r.until('\n'), PRELUDE);
  assert.equal(await r.until('\n'), 'o\n');
  // 'o\n' is 2 bytes and each of these frames 134: 30 frames make 4022 bytes, the 31st passes 4096.
  const msg = JSON.stringify('x'.repeat(128));
  for (let i = 1; i <= 31; i++) {
    assert.equal((await POST(url + '/xhr_send', { body: `[${msg}]` })).status, 204);
    assert.equal(await r.until('\n'), `a[${msg}]\n`, `frame ${i} on the first stream`);
  }
  assert.equal(await r.rest(), '', 'the stream ends after the 31st frame');
});

test('xhr_streaming: after the limit closed a stream, the next request continues the same session and loses no message', async () => {
  const url = sessionUrl(srv.url + '/echo');
  const first = new Reader(new Stream('POST', url + '/xhr_streaming'));
  assert.equal(await first.until('\n'), PRELUDE);
  assert.equal(await first.until('\n'), 'o\n');
  const big = 'y'.repeat(5000);
  assert.equal((await POST(url + '/xhr_send', { body: JSON.stringify([big]) })).status, 204);
  assert.equal(await first.until('\n'), `a["${big}"]\n`);
  assert.equal(await first.rest(), '');
  // Written while no stream is attached: kept for the next one.
  assert.equal((await POST(url + '/xhr_send', { body: '["between","streams"]' })).status, 204);
  const second = new Reader(new Stream('POST', url + '/xhr_streaming'));
  assert.equal(await second.until('\n'), PRELUDE);
  assert.equal(await second.until('\n'), 'a["between","streams"]\n', 'no new open frame, the queued messages first');
  assert.equal((await POST(url + '/xhr_send', { body: '["later"]' })).status, 204);
  assert.equal(await second.until('\n'), 'a["later"]\n');
  second.close();
});
