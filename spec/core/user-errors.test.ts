/** User code that throws (listeners, log, cookie_needed) leaves no session half open or half closed. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { FlushScheduler } from '../../lib/session/flush.js';
import type { Session } from '../../lib/session/session.js';
import { POST, WsClient, sessionUrl } from '../support/client.js';
import { startService } from '../support/service.js';

/** Three stand-in sessions for a FlushScheduler; the first one's flush throws. */
function throwingFirst(flushed: number[], marks: { scheduled: boolean; replyDue?: boolean }): Session[] {
  const fake = (n: number): Session =>
    ({
      ...marks,
      flush() {
        flushed.push(n);
        if (n === 1) throw new Error('listener threw');
      },
    }) as unknown as Session;
  return [fake(1), fake(2), fake(3)];
}

test('flush: a session whose flush throws (a drain or close listener) does not keep the later sessions of its round from flushing', async () => {
  const flusher = new FlushScheduler();
  const flushed: number[] = [];
  const sessions = throwingFirst(flushed, { scheduled: true });
  for (const s of sessions) flusher.add(s);
  // The round the scheduler would run at the end of the tick, run here so the error is caught.
  assert.throws(() => (flusher as unknown as { flushAll(): void }).flushAll(), /listener threw/);
  assert.deepEqual(flushed, [1]);
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(flushed, [1, 2, 3], 'the rest flush in the next round');
  assert.ok(sessions.every((s) => !s.scheduled), 'no session is left marked as scheduled');
  assert.equal(flusher.pending, false);
});

test('flush: a websocket reply whose flush throws does not keep the later replies of that read from flushing', async () => {
  const flusher = new FlushScheduler();
  const flushed: number[] = [];
  const sessions = throwingFirst(flushed, { scheduled: false, replyDue: true });
  for (const s of sessions) flusher.reply(s);
  // The replies' flush, run here so the error is caught.
  assert.throws(() => (flusher as unknown as { flushReplies(): void }).flushReplies(), /listener threw/);
  assert.deepEqual(flushed, [1]);
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(flushed, [1, 2, 3], 'the rest flush in the end-of-turn round');
  assert.ok(sessions.every((s) => !s.scheduled && !s.replyDue), 'no session is left marked');
});

test('a close listener that throws: the client still gets its close frame and the session is forgotten', async () => {
  const s = await startService({ max_sessions: 1, disconnect_delay: 100 });
  try {
    const c = new WsClient(sessionUrl(s.ws) + '/websocket');
    assert.equal(await c.next(), 'o');
    const conn = s.conns[0]!;
    conn.on('close', () => {
      throw new Error('listener threw');
    });
    assert.throws(() => conn.close(3001, 'bye'), /listener threw/);
    assert.equal(await c.next(), 'c[3001,"bye"]');
    await c.closed;
    // max_sessions 1: a new session opens only if the old one was forgotten.
    const next = s.nextConnection();
    const c2 = new WsClient(sessionUrl(s.ws) + '/websocket');
    assert.equal(await c2.next(), 'o');
    await next;
    c2.close();
  } finally {
    await s.close();
  }
});

test('a log function that throws: sessions open and close as usual, and a process warning says what happened', async () => {
  const warnings: Error[] = [];
  const onWarning = (w: Error): void => {
    warnings.push(w);
  };
  process.on('warning', onWarning);
  const s = await startService({
    disconnect_delay: 100,
    log: () => {
      throw new Error('logger down');
    },
  });
  try {
    const url = sessionUrl(s.url);
    assert.equal((await POST(url + '/xhr')).body, 'o\n');
    const conn = s.conns[0]!;
    const closed = new Promise<[number, string]>((r) => conn.once('close', (code, reason) => r([code, reason])));
    conn.close(3002, 'done');
    assert.deepEqual(await closed, [3002, 'done']);
    assert.equal((await POST(url + '/xhr')).body, 'c[3002,"done"]\n');
    await new Promise((r) => setImmediate(r));
    assert.ok(warnings.some((w) => /log function threw \(Error: logger down\)/.test(w.message)), 'a warning names the error');
  } finally {
    process.off('warning', onWarning);
    await s.close();
  }
});

test('a cookie_needed handler that throws: the request fails with 500 and leaves no session behind', async () => {
  let calls = 0;
  const s = await startService({
    max_sessions: 1,
    cookie_needed: (_req, res: ServerResponse) => {
      if (++calls === 1) throw new Error('cookie store down');
      res.setHeader('Set-Cookie', 'JSESSIONID=dummy; Path=/');
    },
  }, (_r, app) => {
    app.use('/svc', (_req, _res, next) => next());
  });
  s.app.use((err: Error, _req: unknown, res: ServerResponse & { status(n: number): { send(b: string): void } }, _next: unknown) => {
    res.status(500).send('app error: ' + err.message);
  });
  try {
    const first = await POST(sessionUrl(s.url) + '/xhr');
    assert.equal(first.status, 500);
    assert.match(first.body, /cookie store down/);
    // max_sessions 1: this opens only if the failed one was not kept.
    const second = await POST(sessionUrl(s.url) + '/xhr');
    assert.equal(second.status, 200);
    assert.equal(second.body, 'o\n');
  } finally {
    await s.close();
  }
});
