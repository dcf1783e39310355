/** EventSource (`/eventsource`): frames as server-sent events. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { POST, Stream, sessionUrl } from '../support/client.js';
import { Reader, serverForFile } from './helpers.js';

const srv = serverForFile();

test('eventsource: 200 text/event-stream, uncached; a "\\r\\n" prelude, then "data: o\\r\\n\\r\\n", then one event per frame', async () => {
  const url = sessionUrl(srv.url + '/echo');
  const r = new Reader(new Stream('GET', url + '/eventsource'));
  await r.opened();
  assert.equal(r.status, 200);
  assert.equal(r.headers['content-type']?.replace(/ /g, '').split(';')[0], 'text/event-stream');
  assert.equal(r.headers['cache-control'], 'no-store, no-cache, no-transform, must-revalidate, max-age=0');
  assert.equal(r.headers.expires, undefined);
  assert.equal(r.headers['last-modified'], undefined);
  assert.equal(await r.until('\r\n'), '\r\n');
  assert.equal(await r.until('\r\n\r\n'), 'data: o\r\n\r\n');
  const sent = await POST(url + '/xhr_send', { body: '["x"]' });
  assert.equal(sent.status, 204);
  assert.equal(sent.body, '');
  assert.equal(await r.until('\r\n\r\n'), 'data: a["x"]\r\n\r\n');
  r.close();
});

test('eventsource: NUL, CR and LF in messages stay JSON-escaped, so an event never breaks; leading spaces are kept', async () => {
  const url = sessionUrl(srv.url + '/echo');
  const r = new Reader(new Stream('GET', url + '/eventsource'));
  assert.equal(await r.until('\r\n'), '\r\n');
  assert.equal(await r.until('\r\n\r\n'), 'data: o\r\n\r\n');
  assert.equal((await POST(url + '/xhr_send', { body: '["  \\u0000\\n\\r "]' })).status, 204);
  assert.equal(await r.until('\r\n\r\n'), 'data: a["  \\u0000\\n\\r "]\r\n\r\n');
  r.close();
});

test('eventsource: "%" is sent as %25, because sockjs-client decodeURI()s every event', async () => {
  const url = sessionUrl(srv.url + '/echo');
  const r = new Reader(new Stream('GET', url + '/eventsource'));
  assert.equal(await r.until('\r\n'), '\r\n');
  assert.equal(await r.until('\r\n\r\n'), 'data: o\r\n\r\n');
  assert.equal((await POST(url + '/xhr_send', { body: '["%41 100% %25"]' })).status, 204);
  const event = await r.until('\r\n\r\n');
  assert.equal(event, 'data: a["%2541 100%25 %2525"]\r\n\r\n');
  assert.equal(decodeURI(event.slice(6, -4)), 'a["%41 100% %25"]');
  r.close();
});

test('eventsource: the response ends after the frame that passes response_limit (4096)', async () => {
  const url = sessionUrl(srv.url + '/echo');
  const r = new Reader(new Stream('GET', url + '/eventsource'));
  assert.equal(await r.until('\r\n'), '\r\n');
  assert.equal(await r.until('\r\n\r\n'), 'data: o\r\n\r\n');
  const msg = 'x'.repeat(4096);
  assert.equal((await POST(url + '/xhr_send', { body: `["${msg}"]` })).status, 204);
  assert.equal(await r.until('\r\n\r\n'), `data: a["${msg}"]\r\n\r\n`);
  assert.equal(await r.rest(), '');
});
