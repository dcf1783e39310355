/** How sessions end: server closes reach every receiver, and a receiver that goes away ends its session. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { POST, Stream, sessionUrl } from '../support/client.js';
import type { SockJSRouter } from '../../lib/index.js';
import { heldRequest, PRELUDE, Reader, serverForFile, waitUntil } from './helpers.js';

const srv = serverForFile();

const AFTER_ABORT = ['o\n', 'c[1002,"Connection interrupted"]\n'];

function streaming(url: string): Reader {
  return new Reader(new Stream('POST', url + '/xhr_streaming'));
}

/** Sessions of this service ended so far because their receiver vanished. */
function interruptedCount(r: SockJSRouter): number {
  return r.stats.dump().sessions_closed.interrupted;
}

test('closing: a server close ends the streaming response that carried it, and a later stream gets the close frame and ends too', async () => {
  const url = sessionUrl(srv.url + '/close');
  const r1 = streaming(url);
  assert.equal(await r1.until('\n'), PRELUDE);
  assert.equal(await r1.until('\n'), 'o\n');
  assert.equal(await r1.until('\n'), 'c[3000,"Go away!"]\n');
  const r2 = streaming(url);
  assert.equal(await r2.until('\n'), PRELUDE);
  assert.equal(await r2.until('\n'), 'c[3000,"Go away!"]\n');
  assert.equal(await r1.rest(), '');
  assert.equal(await r2.rest(), '');
});

test('closing: a second stream on a busy session gets c[2010,"Another connection still open"] and is ended at once', async () => {
  const url = sessionUrl(srv.url + '/echo');
  const r1 = streaming(url);
  assert.equal(await r1.until('\n'), PRELUDE);
  assert.equal(await r1.until('\n'), 'o\n');
  const r2 = streaming(url);
  assert.equal(await r2.until('\n'), PRELUDE);
  assert.equal(await r2.until('\n'), 'c[2010,"Another connection still open"]\n');
  assert.equal(await r2.rest(), '');
  r1.close();
});

test('closing: aborting the streaming receiver ends the session; the next receiver gets "o" (new session) or c[1002,"Connection interrupted"]', async () => {
  const echo = srv.services.echo!;
  const url = sessionUrl(srv.url + '/echo');
  const r1 = streaming(url);
  assert.equal(await r1.until('\n'), PRELUDE);
  assert.equal(await r1.until('\n'), 'o\n');
  const r2 = streaming(url);
  await r2.until('\n');
  assert.equal(await r2.until('\n'), 'c[2010,"Another connection still open"]\n');
  assert.equal(await r2.rest(), '');
  const before = interruptedCount(echo);
  r1.close();
  await waitUntil(() => interruptedCount(echo) > before, 'the server to notice the abort');
  const r3 = streaming(url);
  assert.equal(await r3.until('\n'), PRELUDE);
  const next = await r3.until('\n');
  assert.ok(AFTER_ABORT.includes(next), JSON.stringify(next));
  r3.close();
});

test('closing: aborting a waiting poll ends the session; the next poll gets "o" (new session) or c[1002,"Connection interrupted"]', async () => {
  const echo = srv.services.echo!;
  const url = sessionUrl(srv.url + '/echo');
  assert.equal((await POST(url + '/xhr')).body, 'o\n');
  const held = await heldRequest(echo, 'POST', url + '/xhr');
  assert.equal((await POST(url + '/xhr')).body, 'c[2010,"Another connection still open"]\n');
  const before = interruptedCount(echo);
  held.close();
  await waitUntil(() => interruptedCount(echo) > before, 'the server to notice the abort');
  const r3 = await POST(url + '/xhr');
  assert.equal(r3.status, 200);
  assert.ok(AFTER_ABORT.includes(r3.body), JSON.stringify(r3.body));
});
