/** SockJS frames (o, a[...], c[...]) and the one-receiver-per-session rule, seen through xhr. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { POST, Stream, sessionUrl } from '../support/client.js';
import { heldRequest, PRELUDE, Reader, serverForFile } from './helpers.js';

const srv = serverForFile();


test('framing: a new session starts with the open frame "o"; later messages come as a JSON array frame a[...]', async () => {
  const url = sessionUrl(srv.url + '/echo');
  const first = await POST(url + '/xhr');
  assert.equal(first.status, 200);
  assert.equal(first.body, 'o\n');
  assert.equal((await POST(url + '/xhr_send', { body: '["a"]' })).status, 204);
  const second = await POST(url + '/xhr');
  assert.equal(second.status, 200);
  assert.equal(second.body, 'a["a"]\n');
});

test('framing: messages queued while no receiver is attached arrive together in one frame, in order', async () => {
  const url = sessionUrl(srv.url + '/echo');
  assert.equal((await POST(url + '/xhr')).body, 'o\n');
  for (const m of ['["a"]', '["b","c"]', '["d"]']) assert.equal((await POST(url + '/xhr_send', { body: m })).status, 204);
  assert.equal((await POST(url + '/xhr')).body, 'a["a","b","c","d"]\n');
});

test('framing: messages the application writes in one tick go out as one a[...] frame on a waiting receiver', async () => {
  const url = sessionUrl(srv.url + '/echo');
  const r = new Reader(new Stream('POST', url + '/xhr_streaming'));
  assert.equal(await r.until('\n'), PRELUDE);
  assert.equal(await r.until('\n'), 'o\n');
  // The echo service writes each of these three from inside one delivery.
  assert.equal((await POST(url + '/xhr_send', { body: '["x","y","z"]' })).status, 204);
  assert.equal(await r.until('\n'), 'a["x","y","z"]\n');
  r.close();
});

test('framing: a session closed by the server gives o, then c[3000,"Go away!"] to this and every later request', async () => {
  const url = sessionUrl(srv.url + '/close');
  assert.equal((await POST(url + '/xhr')).body, 'o\n');
  for (let i = 0; i < 3; i++) {
    const r = await POST(url + '/xhr');
    assert.equal(r.status, 200);
    assert.equal(r.body, 'c[3000,"Go away!"]\n');
  }
});

test('framing: a second receiver while one waits gets c[2010,"Another connection still open"]; the first keeps working', async () => {
  const url = sessionUrl(srv.url + '/echo');
  assert.equal((await POST(url + '/xhr')).body, 'o\n');
  const waiting = await heldRequest(srv.services.echo!, 'POST', url + '/xhr');
  const second = await POST(url + '/xhr');
  assert.equal(second.status, 200);
  assert.equal(second.body, 'c[2010,"Another connection still open"]\n');
  assert.equal((await POST(url + '/xhr_send', { body: '["still here"]' })).status, 204);
  assert.equal(await waiting.rest(), 'a["still here"]\n');
  assert.equal(waiting.status, 200);
});
