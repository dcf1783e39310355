/** Known paths with the wrong method (405 + Allow), and unknown transports (404). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from '../support/client.js';
import { serverForFile } from './helpers.js';

const srv = serverForFile();

test('methods: a wrong method on a known path is 405 with an Allow header naming the right one, and no body or content type', async () => {
  const cases: [string, string, string][] = [
    ['GET', '/abc/abc/xhr', 'POST'],
    ['GET', '/abc/abc/xhr_send', 'POST'],
    ['GET', '/abc/abc/xhr_streaming', 'POST'],
    ['PUT', '/abc/abc/xhr', 'POST'],
    ['GET', '/abc/abc/jsonp_send', 'POST'],
    ['POST', '/abc/abc/jsonp?c=x', 'GET'],
    ['POST', '/abc/abc/eventsource', 'GET'],
    ['POST', '/abc/abc/htmlfile?c=x', 'GET'],
    ['DELETE', '/abc/abc/websocket', 'GET'],
    ['POST', '/websocket', 'GET'],
    ['POST', '/info', 'GET'],
    ['DELETE', '/info', 'GET'],
    ['POST', '/iframe.html', 'GET'],
    ['POST', '', 'GET'],
  ];
  for (const [method, path, allowed] of cases) {
    const what = `${method} /echo${path}`;
    const r = await request(method, srv.url + '/echo' + path);
    assert.equal(r.status, 405, what);
    const allow = (r.headers.allow ?? '').split(',').map((m) => m.trim());
    assert.ok(allow.includes(allowed), `${what}: Allow ${r.headers.allow}`);
    assert.ok(!allow.includes(method), `${what}: Allow ${r.headers.allow}`);
    assert.equal(r.headers['content-type'], undefined, what);
    assert.equal(r.body, '', what);
  }
});

test('methods: an unknown transport name under a session path is 404, whatever the method', async () => {
  for (const transport of ['xhr_foo', 'unknown', 'XHR', 'xhr_sendx', 'jsonp_', 'websocket_']) {
    for (const method of ['GET', 'POST']) {
      const r = await request(method, `${srv.url}/echo/abc/abc/${transport}`);
      assert.equal(r.status, 404, `${method} ${transport}`);
    }
  }
});
