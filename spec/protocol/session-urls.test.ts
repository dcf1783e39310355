/** `/<server>/<session>/<transport>`: which server and session ids are accepted, and what they mean. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { POST } from '../support/client.js';
import { requestPath, serverForFile } from './helpers.js';

const srv = serverForFile();

test('session urls: any non-empty server and session value without dots opens a session (letters, "_", digits, "-", "%20")', async () => {
  const n = String(Math.floor(Math.random() * 1e9));
  for (const part of [`/a/a${n}`, `/_/_${n}`, `/1/${n}`, `/abcdefgh_i-j%20/abcdefg_i-j%20${n}`, `/000/${randomUUID()}`]) {
    const r = await requestPath('POST', srv.port, '/echo' + part + '/xhr');
    assert.equal(r.status, 200, part);
    assert.equal(r.body, 'o\n', part);
  }
});

test('session urls: empty segments, dots, or too few segments are 404 for GET and for POST', async () => {
  for (const part of ['//', '/a./a', '/a/a.', '/./.', '/', '///', '/a.b/c', '/a/b.c']) {
    for (const method of ['GET', 'POST']) {
      const r = await requestPath(method, srv.port, '/echo' + part + '/xhr');
      assert.equal(r.status, 404, `${method} /echo${part}/xhr`);
    }
  }
});

test('session urls: only the session id names a session; the server id is ignored (open under /000/, continue under /999/)', async () => {
  const id = randomUUID();
  assert.equal((await POST(`${srv.url}/echo/000/${id}/xhr`)).body, 'o\n');
  const sent = await POST(`${srv.url}/echo/123/${id}/xhr_send`, { body: '["a"]' });
  assert.equal(sent.status, 204);
  const r = await POST(`${srv.url}/echo/999/${id}/xhr`);
  assert.equal(r.status, 200);
  assert.equal(r.body, 'a["a"]\n');
});
