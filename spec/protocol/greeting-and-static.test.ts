/** The service's base URL: the greeting, and 404 for every path the protocol does not define. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ctype, requestPath, serverForFile } from './helpers.js';

const srv = serverForFile();

for (const suffix of ['', '/']) {
  test(`greeting: GET /echo${suffix} answers 200 text/plain;charset=UTF-8 "Welcome to SockJS!\\n" without a cookie`, async () => {
    const r = await requestPath('GET', srv.port, '/echo' + suffix);
    assert.equal(r.status, 200);
    assert.equal(ctype(r), 'text/plain;charset=UTF-8');
    assert.equal(r.body, 'Welcome to SockJS!\n');
    assert.equal(r.headers['set-cookie'], undefined);
  });
}

test('greeting: paths outside the protocol ("/a", "/a.html", "//", "///", "/a/a", "/a/a/", "/a/") are 404', async () => {
  for (const suffix of ['/a', '/a.html', '//', '///', '/a/a', '/a/a/', '/a/']) {
    const r = await requestPath('GET', srv.port, '/echo' + suffix);
    assert.equal(r.status, 404, `GET /echo${suffix}`);
  }
});
