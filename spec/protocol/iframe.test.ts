/** `/iframe*.html`: the same-origin page that iframe-based transports load. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GET, type Reply } from '../support/client.js';
import { ctype, serverForFile } from './helpers.js';

const srv = serverForFile();

/** The page the protocol prescribes, for the test server's sockjs_url ('/sockjs.js'). */
const PAGE = [
  '<!DOCTYPE html>',
  '<html>',
  '<head>',
  '  <meta http-equiv="X-UA-Compatible" content="IE=edge" />',
  '  <meta http-equiv="Content-Type" content="text/html; charset=UTF-8" />',
  '  <script src="/sockjs.js"></script>',
  '  <script>',
  '    document.domain = document.domain;',
  '    SockJS.bootstrap_iframe();',
  '  </script>',
  '</head>',
  '<body>',
  "  <h2>Don't panic!</h2>",
  "  <p>This is a SockJS hidden iframe. It's used for cross domain magic.</p>",
  '</body>',
  '</html>',
].join('\n');

function assertIframePage(r: Reply, what: string): void {
  assert.equal(r.status, 200, what);
  assert.equal(ctype(r), 'text/html;charset=UTF-8', what);
  assert.equal(r.body.trim(), PAGE, what);
}

test('iframe: /iframe.html is the prescribed page, loading the configured sockjs_url', async () => {
  assertIframePage(await GET(srv.url + '/echo/iframe.html'), '/iframe.html');
});

test('iframe: the page is strongly cacheable (Cache-Control public, max-age >= 1e6, Expires, ETag, no Last-Modified, no cookie)', async () => {
  const r = await GET(srv.url + '/echo/iframe.html');
  const cc = r.headers['cache-control'] ?? '';
  assert.match(cc, /\bpublic\b/);
  const age = /max-age=(\d+)/.exec(cc);
  assert.ok(age !== null && Number(age[1]) >= 1_000_000, 'max-age of a year or so: ' + cc);
  const expires = Date.parse(r.headers.expires ?? '');
  assert.ok(expires > Date.now() + 1_000_000_000, 'Expires far in the future: ' + r.headers.expires);
  assert.ok(r.headers.etag, 'ETag');
  assert.equal(r.headers['last-modified'], undefined);
  assert.equal(r.headers['set-cookie'], undefined);
});

test('iframe: versioned names /iframe-<anything>.html serve the same page', async () => {
  for (const suffix of ['/iframe-a.html', '/iframe-.html', '/iframe-0.1.2.html', '/iframe-0.1.2abc-dirty.2144.html']) {
    assertIframePage(await GET(srv.url + '/echo' + suffix), suffix);
  }
});

test('iframe: a query string (cache busting) is ignored', async () => {
  for (const suffix of ['/iframe.html?t=1', '/iframe-a.html?t=1234', '/iframe-0.1.2.html?t=123414', '/iframe-0.1.2abc-dirty.2144.html?t=qweqweq123']) {
    assertIframePage(await GET(srv.url + '/echo' + suffix), suffix);
  }
});

test('iframe: malformed names (wrong case, wrong extension, a slash inside) are 404', async () => {
  for (const suffix of ['/iframe.htm', '/iframe', '/IFRAME.HTML', '/IFRAME', '/iframe.HTML', '/iframe.xml', '/iframe-/.html']) {
    const r = await GET(srv.url + '/echo' + suffix);
    assert.equal(r.status, 404, suffix);
  }
});

test('iframe: the ETag is stable, and If-None-Match with it answers 304 with neither body nor content type', async () => {
  const r1 = await GET(srv.url + '/echo/iframe.html');
  const r2 = await GET(srv.url + '/echo/iframe-1.2.3.html');
  assert.ok(r1.headers.etag);
  assert.equal(r2.headers.etag, r1.headers.etag);
  const r = await GET(srv.url + '/echo/iframe.html', { headers: { 'If-None-Match': r1.headers.etag! } });
  assert.equal(r.status, 304);
  assert.equal(r.headers['content-type'], undefined);
  assert.equal(r.body, '');
  const stale = await GET(srv.url + '/echo/iframe.html', { headers: { 'If-None-Match': '"not-the-etag"' } });
  assert.equal(stale.status, 200);
  assert.equal(stale.body.trim(), PAGE);
});
