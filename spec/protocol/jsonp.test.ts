/** JSONP polling (`/jsonp?c=<callback>`) and sending (`/jsonp_send`). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GET, POST, sessionUrl, type Reply } from '../support/client.js';
import { ctype, serverForFile } from './helpers.js';

const srv = serverForFile();

const NO_CACHE = 'no-store, no-cache, no-transform, must-revalidate, max-age=0';
const FORM = { 'Content-Type': 'application/x-www-form-urlencoded' };

function sendForm(url: string, body: string): Promise<Reply> {
  return POST(url + '/jsonp_send', { body, headers: FORM });
}

async function openSession(base = '/echo'): Promise<string> {
  const url = sessionUrl(srv.url + base);
  const r = await GET(url + '/jsonp?c=x');
  assert.equal(r.body, '/**/x("o");\r\n');
  return url;
}

test('jsonp: a poll answers 200 application/javascript;charset=UTF-8, uncached, as /**/callback("<frame>");\\r\\n', async () => {
  const url = sessionUrl(srv.url + '/echo');
  const r = await GET(url + '/jsonp?c=%63allback');
  assert.equal(r.status, 200);
  assert.equal(ctype(r), 'application/javascript;charset=UTF-8');
  assert.equal(r.headers['cache-control'], NO_CACHE);
  assert.equal(r.headers.expires, undefined);
  assert.equal(r.headers['last-modified'], undefined);
  assert.equal(r.body, '/**/callback("o");\r\n');
});

test('jsonp_send: an urlencoded d=<payload> answers 200 "ok" text/plain;charset=UTF-8, uncached, and the next poll carries it', async () => {
  const url = sessionUrl(srv.url + '/echo');
  assert.equal((await GET(url + '/jsonp?c=%63allback')).body, '/**/callback("o");\r\n');
  const r = await sendForm(url, 'd=%5B%22x%22%5D');
  assert.equal(r.status, 200);
  assert.equal(r.body, 'ok');
  assert.equal(ctype(r), 'text/plain;charset=UTF-8');
  assert.equal(r.headers['cache-control'], NO_CACHE);
  assert.equal(r.headers.expires, undefined);
  const poll = await GET(url + '/jsonp?c=%63allback');
  assert.equal(poll.status, 200);
  assert.equal(poll.body, '/**/callback("a[\\"x\\"]");\r\n');
});

test('jsonp_send: a text/plain body is the raw payload (not url-decoded), and both kinds can be mixed', async () => {
  const url = await openSession();
  assert.equal((await sendForm(url, 'd=%5B%22abc%22%5D')).body, 'ok');
  const raw = await POST(url + '/jsonp_send', { body: '["%61bc"]', headers: { 'Content-Type': 'text/plain' } });
  assert.equal(raw.status, 200);
  assert.equal(raw.body, 'ok');
  assert.equal((await GET(url + '/jsonp?c=x')).body, '/**/x("a[\\"abc\\",\\"%61bc\\"]");\r\n');
});

test('jsonp_send: the form body is fully decoded ("+" is a space, %2B a plus, percent-encoded UTF-8)', async () => {
  const url = await openSession();
  const d = encodeURIComponent('["a b+c é"]').replace(/%20/g, '+');
  assert.ok(d.includes('+') && d.includes('%2B'), d);
  assert.equal((await sendForm(url, 'd=' + d)).body, 'ok');
  const back = await GET(url + '/jsonp?c=x');
  assert.equal(back.body, '/**/x(' + JSON.stringify('a' + JSON.stringify(['a b+c é'])) + ');\r\n');
});

test('jsonp: without a callback parameter the answer is 500 "\\"callback\\" parameter required"', async () => {
  const r = await GET(srv.url + '/echo/a/a/jsonp');
  assert.equal(r.status, 500);
  assert.ok(r.body.includes('"callback" parameter required'), r.body);
});

test('jsonp: a callback with characters outside [a-zA-Z0-9_.-] ("%20", "*", "abc(", "abc%28") is 500 "invalid \\"callback\\" parameter"', async () => {
  for (const cb of ['%20', '*', 'abc(', 'abc%28']) {
    const r = await GET(srv.url + '/echo/a/a/jsonp?c=' + cb);
    assert.equal(r.status, 500, cb);
    assert.ok(r.body.includes('invalid "callback" parameter'), cb + ': ' + r.body);
  }
});

test('jsonp_send: a payload that is not valid JSON answers 500 "Broken JSON encoding."', async () => {
  const url = await openSession();
  const r = await sendForm(url, 'd=%5B%22x');
  assert.equal(r.status, 500);
  assert.ok(r.body.includes('Broken JSON encoding.'), r.body);
});

test('jsonp_send: no payload (an empty body, "d=", or a form without d) answers 500 "Payload expected."', async () => {
  const url = await openSession();
  for (const body of ['', 'd=', 'p=p']) {
    const r = await sendForm(url, body);
    assert.equal(r.status, 500, JSON.stringify(body));
    assert.ok(r.body.includes('Payload expected.'), JSON.stringify(body) + ': ' + r.body);
  }
  assert.equal((await sendForm(url, 'd=%5B%22b%22%5D')).body, 'ok');
  const poll = await GET(url + '/jsonp?c=x');
  assert.equal(poll.status, 200);
  assert.equal(poll.body, '/**/x("a[\\"b\\"]");\r\n');
});

test('jsonp_send: "[]" answers "ok" and delivers nothing', async () => {
  const url = await openSession();
  assert.equal((await sendForm(url, 'd=%5B%5D')).body, 'ok');
  assert.equal((await sendForm(url, 'd=%5B%22x%22%5D')).body, 'ok');
  assert.equal((await GET(url + '/jsonp?c=x')).body, '/**/x("a[\\"x\\"]");\r\n');
});

test('jsonp_send: sending to a session that does not exist is 404', async () => {
  const r = await sendForm(sessionUrl(srv.url + '/echo'), 'd=%5B%22x%22%5D');
  assert.equal(r.status, 404);
});

test('jsonp: a session closed by the server answers the close frame, wrapped in the callback, to every later poll', async () => {
  const url = await openSession('/close');
  for (let i = 0; i < 2; i++) {
    const r = await GET(url + '/jsonp?c=x');
    assert.equal(r.status, 200);
    assert.equal(r.body, '/**/x("c[3000,\\"Go away!\\"]");\r\n');
  }
});
