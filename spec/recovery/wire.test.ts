/**
 * The recovery wire format spoken by hand over a framed websocket (as a client in another
 * language would), the resume credential's rules, and the option's validation.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import sockjs from '../../lib/index.js';
import { ctl, parse, session, startRecoveryApp, type RecoveryApp } from './app.js';

describe('recovery wire format', () => {
  let app: RecoveryApp;
  before(async () => {
    app = await startRecoveryApp({ recovery: { window_ms: 5000 } }, 0.001);
  });
  after(async () => {
    await app.close();
  });

  test('ready, hello, welcome; escaped messages; a credential works once, a forged one never', async () => {
    const a = await session(app.directUrl);
    assert.deepEqual(parse(await a.next()), { t: 'ready', v: 2 });
    a.send(ctl({ t: 'hello', v: 1 }));
    const w1 = parse(await a.next());
    assert.equal(w1.t, 'welcome');
    assert.equal(w1.recovered, false);
    const peer = app.peers.at(-1)!;
    a.send('\u0000\u0000starts with NUL');
    peer.conn.write('\u0000from the server');
    assert.equal(await a.next(), '\u0000\u0000from the server', 'escaped on the wire');
    await a.close();

    const b = await session(app.directUrl);
    await b.next();
    b.send(ctl({ t: 'hello', v: 1, resume: w1.token, recv: 1 }));
    const w2 = parse(await b.next());
    assert.equal(w2.recovered, true);
    assert.equal(w2.recv, 1, 'the server had one message from the client');
    assert.notEqual(w2.token, w1.token, 'a new secret each welcome');
    assert.deepEqual(peer.got, ['\u0000starts with NUL']);
    b.send(ctl({ t: 'ack', recv: 1 }));
    await new Promise((r) => setTimeout(r, 50));
    await b.close();

    for (const token of [w1.token, String(w2.token).slice(0, -2) + 'AA', 'nokey', '']) {
      const c = await session(app.directUrl);
      await c.next();
      c.send(ctl({ t: 'hello', v: 1, resume: token, recv: 1 }));
      const w = parse(await c.next());
      assert.equal(w.recovered, false, `token ${String(token)} refused`);
      assert.equal(w.reason, 'unknown');
      await c.close();
    }
    assert.equal(peer.resumes, 1);
  });

  test('an application message before the hello closes the session with 3400', async () => {
    const ws = new WebSocket(app.directUrl.replace('http', 'ws') + '/000/x1/websocket?sockjs-recovery=1');
    const frames: string[] = [];
    ws.on('message', (d) => {
      frames.push(d.toString());
      if (frames.length === 2) ws.send(JSON.stringify(['hi']));
    });
    await new Promise((r) => ws.once('close', r));
    assert.equal(frames.at(-1), 'c[3400,"Recovery hello expected"]');
  });

  test('the option is validated', () => {
    assert.throws(() => sockjs({ recovery: 'yes' as never }), /option "recovery" must be true, false or an object/);
    assert.throws(() => sockjs({ recovery: { window_ms: 0 } }), /option "recovery.window_ms" must be an integer/);
    assert.throws(() => sockjs({ recovery: { window: 1 } as never }), /unknown option "recovery.window"/);
    assert.deepEqual(sockjs({ recovery: true }).config.recovery, { window_ms: 120_000, max_messages: 1000, max_bytes: 1024 * 1024 });
    assert.equal(sockjs().config.recovery, null);
  });
});
