/** htmlfile (`/htmlfile?c=<callback>`): a streamed HTML page of script tags. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GET, POST, Stream, sessionUrl } from '../support/client.js';
import { ctype, Reader, serverForFile } from './helpers.js';

const srv = serverForFile();

/** The page head the protocol prescribes, calling back into `parent.<callback>`. */
function head(callback: string): string {
  return [
    '<!doctype html>',
    '<html><head>',
    '  <meta http-equiv="X-UA-Compatible" content="IE=edge" />',
    '  <meta http-equiv="Content-Type" content="text/html; charset=UTF-8" />',
    "</head><body><h2>Don't panic!</h2>",
    '  <script>',
    '    document.domain = document.domain;',
    `    var c = parent.${callback};`,
    '    c.start();',
    '    function p(d) {c.message(d);};',
    '    window.onload = function() {c.stop();};',
    '  </script>',
  ].join('\n');
}

test('htmlfile: 200 text/html;charset=UTF-8, uncached; a head padded past 1024 bytes, then each frame as <script>\\np("…");\\n</script>\\r\\n', async () => {
  const url = sessionUrl(srv.url + '/echo');
  const r = new Reader(new Stream('GET', url + '/htmlfile?c=%63allback'));
  await r.opened();
  assert.equal(r.status, 200);
  assert.equal(ctype(r), 'text/html;charset=UTF-8');
  assert.equal(r.headers['cache-control'], 'no-store, no-cache, no-transform, must-revalidate, max-age=0');
  assert.equal(r.headers.expires, undefined);
  assert.equal(r.headers['last-modified'], undefined);
  const top = await r.until('\r\n\r\n');
  assert.equal(top.trim(), head('callback'));
  assert.ok(Buffer.byteLength(top) > 1024, `head is ${Buffer.byteLength(top)} bytes`);
  assert.equal(await r.until('</script>\r\n'), '<script>\np("o");\n</script>\r\n');
  const sent = await POST(url + '/xhr_send', { body: '["x"]' });
  assert.equal(sent.status, 204);
  assert.equal(await r.until('</script>\r\n'), '<script>\np("a[\\"x\\"]");\n</script>\r\n');
  r.close();
});

test('htmlfile: without a callback parameter the answer is 500 "\\"callback\\" parameter required"', async () => {
  const r = await GET(srv.url + '/echo/a/a/htmlfile');
  assert.equal(r.status, 500);
  assert.ok(r.body.includes('"callback" parameter required'), r.body);
});

test('htmlfile: a callback with characters outside [a-zA-Z0-9_.-] ("%20", "*", "abc(", "abc%28") is 500 "invalid \\"callback\\" parameter"', async () => {
  for (const cb of ['%20', '*', 'abc(', 'abc%28']) {
    const r = await GET(srv.url + '/echo/a/a/htmlfile?c=' + cb);
    assert.equal(r.status, 500, cb);
    assert.ok(r.body.includes('invalid "callback" parameter'), cb + ': ' + r.body);
  }
});

test('htmlfile: the response ends after the frame that passes response_limit (4096)', async () => {
  const url = sessionUrl(srv.url + '/echo');
  const r = new Reader(new Stream('GET', url + '/htmlfile?c=callback'));
  await r.until('\r\n\r\n');
  assert.equal(await r.until('</script>\r\n'), '<script>\np("o");\n</script>\r\n');
  const msg = 'x'.repeat(4096);
  assert.equal((await POST(url + '/xhr_send', { body: `["${msg}"]` })).status, 204);
  assert.equal(await r.until('</script>\r\n'), `<script>\np("a[\\"${msg}\\"]");\n</script>\r\n`);
  assert.equal(await r.rest(), '');
});
