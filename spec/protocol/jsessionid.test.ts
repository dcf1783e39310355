/** The JSESSIONID cookie for sticky load balancers (`cookie_needed_echo`), and its absence elsewhere. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type http from 'node:http';
import { GET, POST, Stream, sessionUrl } from '../support/client.js';
import { Reader, serverForFile } from './helpers.js';

const srv = serverForFile();

const FORM = { 'Content-Type': 'application/x-www-form-urlencoded' };

/** Asserts one Set-Cookie of `JSESSIONID=<value>` whose next attribute is `path=/`. */
function assertCookie(headers: http.IncomingHttpHeaders, value: string, what: string): void {
  const set = headers['set-cookie'];
  assert.ok(set !== undefined && set.length === 1, what + ': one Set-Cookie, got ' + JSON.stringify(set));
  const parts = set[0]!.split(';');
  assert.equal(parts[0]!.trim(), 'JSESSIONID=' + value, what);
  assert.equal(parts[1]?.trim().toLowerCase(), 'path=/', what);
}

/** Opens a streaming receiver, returns its headers, and drops it. */
async function streamHeaders(method: string, url: string): Promise<{ status: number; headers: http.IncomingHttpHeaders }> {
  const r = new Reader(new Stream(method, url));
  await r.opened();
  r.close();
  return { status: r.status, headers: r.headers };
}

test('jsessionid: /info sets no cookie but tells the client cookie_needed: true', async () => {
  const r = await GET(srv.url + '/cookie_needed_echo/info');
  assert.equal(r.status, 200);
  assert.equal(r.headers['set-cookie'], undefined);
  assert.equal((JSON.parse(r.body) as { cookie_needed: unknown }).cookie_needed, true);
});

test('jsessionid: xhr sets "JSESSIONID=dummy; path=/"', async () => {
  const r = await POST(sessionUrl(srv.url + '/cookie_needed_echo') + '/xhr');
  assert.equal(r.status, 200);
  assert.equal(r.body, 'o\n');
  assertCookie(r.headers, 'dummy', 'xhr');
});

test('jsessionid: a JSESSIONID the client already has (abcdef) is echoed back instead', async () => {
  const r = await POST(sessionUrl(srv.url + '/cookie_needed_echo') + '/xhr', { headers: { Cookie: 'JSESSIONID=abcdef' } });
  assert.equal(r.status, 200);
  assert.equal(r.body, 'o\n');
  assertCookie(r.headers, 'abcdef', 'xhr with a cookie');
});

test('jsessionid: xhr_streaming sets the cookie', async () => {
  const r = await streamHeaders('POST', sessionUrl(srv.url + '/cookie_needed_echo') + '/xhr_streaming');
  assert.equal(r.status, 200);
  assertCookie(r.headers, 'dummy', 'xhr_streaming');
});

test('jsessionid: eventsource sets the cookie', async () => {
  const r = await streamHeaders('GET', sessionUrl(srv.url + '/cookie_needed_echo') + '/eventsource');
  assert.equal(r.status, 200);
  assertCookie(r.headers, 'dummy', 'eventsource');
});

test('jsessionid: htmlfile sets the cookie', async () => {
  const r = await streamHeaders('GET', sessionUrl(srv.url + '/cookie_needed_echo') + '/htmlfile?c=%63allback');
  assert.equal(r.status, 200);
  assertCookie(r.headers, 'dummy', 'htmlfile');
});

test('jsessionid: jsonp and jsonp_send set the cookie', async () => {
  const url = sessionUrl(srv.url + '/cookie_needed_echo');
  const r = await GET(url + '/jsonp?c=%63allback');
  assert.equal(r.status, 200);
  assert.equal(r.body, '/**/callback("o");\r\n');
  assertCookie(r.headers, 'dummy', 'jsonp');
  const s = await POST(url + '/jsonp_send', { body: 'd=%5B%22x%22%5D', headers: FORM });
  assert.equal(s.status, 200);
  assert.equal(s.body, 'ok');
  assertCookie(s.headers, 'dummy', 'jsonp_send');
});

test('jsessionid: a service without cookie_needed sets no cookie on any endpoint, even when the client sends one', async () => {
  const headers = { Cookie: 'JSESSIONID=abcdef' };
  const url = sessionUrl(srv.url + '/echo');
  const seen: [string, http.IncomingHttpHeaders][] = [];
  seen.push(['greeting', (await GET(srv.url + '/echo', { headers })).headers]);
  seen.push(['info', (await GET(srv.url + '/echo/info', { headers })).headers]);
  seen.push(['iframe', (await GET(srv.url + '/echo/iframe.html', { headers })).headers]);
  seen.push(['xhr', (await POST(url + '/xhr', { headers })).headers]);
  seen.push(['xhr_send', (await POST(url + '/xhr_send', { body: '["a"]', headers })).headers]);
  seen.push(['xhr_streaming', (await streamHeaders('POST', sessionUrl(srv.url + '/echo') + '/xhr_streaming')).headers]);
  seen.push(['eventsource', (await streamHeaders('GET', sessionUrl(srv.url + '/echo') + '/eventsource')).headers]);
  seen.push(['htmlfile', (await streamHeaders('GET', sessionUrl(srv.url + '/echo') + '/htmlfile?c=cb')).headers]);
  const jsonp = sessionUrl(srv.url + '/echo');
  seen.push(['jsonp', (await GET(jsonp + '/jsonp?c=cb', { headers })).headers]);
  seen.push(['jsonp_send', (await POST(jsonp + '/jsonp_send', { body: 'd=%5B%22x%22%5D', headers: { ...headers, ...FORM } })).headers]);
  for (const [what, h] of seen) assert.equal(h['set-cookie'], undefined, what);
});
