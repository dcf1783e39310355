/**
 * The recovery wire format spoken by hand over a framed websocket (as a client in another
 * language would), the resume credential's rules, and the option's validation.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import sockjs from '../../lib/index.js';
import { ctl, parse, session, startRecoveryApp, type Peer, type RecoveryApp } from './app.js';
import { waitUntil } from '../support/wait.js';
import { POST, sessionUrl } from '../support/client.js';
import { ackCadence, helloInUrl, queryValue } from '../../lib/recovery/wire.js';
import { Link } from '../../lib/recovery/link.js';

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
    // The cadence it asks for: a quarter of the replay buffer (1,000 messages, 1 MiB), at most 256 messages.
    assert.deepEqual([w1.ack, w1.ack_chars], [250, 262144]);
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
    // The probe's answer shows the server has read the ack (which ends the first secret).
    b.send(ctl({ t: 'ack', recv: 1, probe: true }));
    assert.equal(parse(await b.next()).t, 'ack');
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

  test('a new connection over a websocket gives its hello in the URL: ready says so and the welcome follows, with nothing sent', async () => {
    const first = app.peers.length;
    const a = await session(app.directUrl, '&sockjs-recovery-new=1');
    assert.deepEqual(parse(await a.next()), { t: 'ready', v: 2, new: true });
    const w = parse(await a.next());
    assert.deepEqual([w.t, w.recovered, w.v], ['welcome', false, 1], 'a new connection, in the version the URL gave');
    await waitUntil(() => app.peers.length === first + 1, 'the connection', 5000);
    const peer = app.peers[first]!;
    // A hello now is one too many: it opens nothing and gets no second welcome.
    a.send(ctl({ t: 'hello', v: 1 }), 'after');
    await waitUntil(() => peer.got.length === 1, 'the message', 5000);
    peer.conn.write('back');
    assert.equal(await a.next(), 'back');
    assert.equal(app.peers.length, first + 1);
    await a.close();
    // It resumes as any connection does, with a hello message.
    const b = await session(app.directUrl, '&xsockjs-recovery-new=1&sockjs-recovery-new=2');
    assert.equal(parse(await b.next()).new, true);
    await b.next();
    await b.close();
    const c = await session(app.directUrl);
    await c.next();
    c.send(ctl({ t: 'hello', v: 1, resume: w.token, recv: 1 }));
    assert.equal(parse(await c.next()).recovered, true);
    await c.close();
    assert.equal(peer.resumes, 1);
    // A value that is no version is not a hello: the server waits for one.
    for (const query of ['&sockjs-recovery-new=0', '&sockjs-recovery-new=x', '&sockjs-recovery-new=', '&sockjs-recovery-new=2x', '&xsockjs-recovery-new=1']) {
      const d = await session(app.directUrl, query);
      assert.deepEqual(parse(await d.next()), { t: 'ready', v: 2 }, query);
      d.send(ctl({ t: 'hello', v: 1 }));
      assert.equal(parse(await d.next()).t, 'welcome');
      await d.close();
    }
  });

  test('xhr-polling: until the client shows it has its welcome, each new poll gets it again, then a checkpoint of what went with it', async () => {
    let url = sessionUrl(app.directUrl);
    const poll = async (): Promise<unknown[]> => {
      const r = await POST(url + '/xhr?sockjs-recovery=1&sockjs-recovery-new=1');
      return r.body.startsWith('a') ? (JSON.parse(r.body.slice(1)) as string[]).map((m) => (m.startsWith('\u0000') ? parse(m) : m)) : [r.body.trim()];
    };
    const send = (...m: string[]) => POST(url + '/xhr_send?sockjs-recovery=1', { body: JSON.stringify(m) });
    assert.deepEqual(await poll(), ['o']);
    assert.deepEqual(await poll(), [{ t: 'ready', v: 2 }], 'over HTTP the URL is no hello');
    const first = app.peers.length;
    assert.equal((await send(ctl({ t: 'hello', v: 1 }))).status, 204);
    await waitUntil(() => app.peers.length === first + 1, 'the connection', 5000);
    app.peers[first]!.conn.write('g1');
    // This poll is the one the network drops: the test reads and forgets it.
    const lost = await poll();
    assert.equal((lost[0] as { t: string }).t, 'welcome');
    assert.equal(lost[1], 'g1');
    const again = await poll();
    assert.deepEqual(again[0], lost[0], 'the same welcome');
    assert.deepEqual(again[1], { t: 'ack', recv: 0, sent: 1 }, 'and a checkpoint: one message went before it');
    // The client says it has the welcome (any message does): the next poll has neither.
    assert.equal((await send(ctl({ t: 'ack', recv: 0 }))).status, 204);
    app.peers[first]!.conn.write('g2');
    assert.deepEqual(await poll(), ['g2']);
    // A resume on a new session whose first poll (the welcome and the replay) is dropped: the next
    // one says that two messages went before it, though nothing went since the replay.
    url = sessionUrl(app.directUrl);
    assert.deepEqual(await poll(), ['o']);
    assert.equal(((await poll())[0] as { t: string }).t, 'ready');
    await send(ctl({ t: 'hello', v: 1, resume: (lost[0] as { token: string }).token, recv: 0 }));
    const dropped = await poll();
    assert.deepEqual(dropped.slice(1), ['g1', 'g2']);
    assert.equal((dropped[0] as { recovered: boolean }).recovered, true);
    assert.deepEqual(await poll(), [dropped[0], { t: 'ack', recv: 0, sent: 2 }]);
  });

  test('credentials are 16 + 32 random bytes, none repeated, across refills of the entropy pool', async () => {
    // 100 connections take 4,800 bytes: more than the service's pool of 4,096 holds at once.
    const keys = new Set<string>();
    const secrets = new Set<string>();
    for (let i = 0; i < 100; i++) {
      const s = await session(app.directUrl);
      await s.next();
      s.send(ctl({ t: 'hello', v: 1 }));
      const token = String(parse(await s.next()).token);
      assert.match(token, /^[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$/);
      const [key, secret] = token.split('.') as [string, string];
      keys.add(key);
      secrets.add(secret);
      await s.close();
    }
    assert.equal(keys.size, 100);
    assert.equal(secrets.size, 100);
  });

  test('a credential stays good through any number of lost welcomes, and a repeated hello is no sign the welcome arrived', async () => {
    const first = await session(app.directUrl);
    await first.next();
    first.send(ctl({ t: 'hello', v: 1 }));
    const token = parse(await first.next()).token;
    const peer = app.peers.at(-1)!;
    await first.close();
    // Three resumes in a row with the first credential: each welcome is "lost" (never answered).
    // The first resume's hello comes twice, as a POST the browser repeated would.
    for (let i = 0; i < 3; i++) {
      const s = await session(app.directUrl);
      await s.next();
      const hello = ctl({ t: 'hello', v: 1, resume: token, recv: 0 });
      if (i === 0) s.send(hello, hello);
      else s.send(hello);
      const w = parse(await s.next());
      assert.equal(w.recovered, true, `resume ${i + 1} with the same credential: ${JSON.stringify(w)}`);
      if (i < 2) {
        await s.close();
        continue;
      }
      // This time the client answers: the first credential is spent.
      s.send(ctl({ t: 'ack', recv: 0, probe: true }));
      assert.equal(parse(await s.next()).t, 'ack');
      await s.close();
    }
    assert.equal(peer.resumes, 3);
    const late = await session(app.directUrl);
    await late.next();
    late.send(ctl({ t: 'hello', v: 1, resume: token, recv: 0 }));
    assert.equal(parse(await late.next()).reason, 'unknown', 'spent once a later welcome is known to have arrived');
    await late.close();
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

  test('a broken control message, or one only a server sends, closes the session with 3400; an ack past what was sent is ignored', async () => {
    /** A new connection that sends `message` once welcomed. */
    const welcomedThen = async (message: string): Promise<Awaited<ReturnType<typeof session>>> => {
      const s = await session(app.directUrl);
      await s.next();
      s.send(ctl({ t: 'hello', v: 2 }));
      assert.equal(parse(await s.next()).t, 'welcome');
      s.send(message);
      return s;
    };
    const broken = [
      '\u0000{',
      '\u0000[1]',
      '\u0000',
      ctl({ t: 'nope' }),
      ctl({ t: 'ack' }),
      ctl({ t: 'ack', recv: -1 }),
      ctl({ t: 'ack', recv: 1.5 }),
      ctl({ t: 'ack', recv: '0' }),
      ctl({ t: 'b', n: 5, m: ['x'] }),
      ctl({ t: 'b', n: 0, m: 'x' }),
      ctl({ t: 'ready', v: 2 }),
      ctl({ t: 'welcome', v: 2, token: 'x', recovered: false, recv: 0 }),
      ctl({ t: 'p', s: '1-0', g: 0 }),
      ctl({ t: 'd' }),
    ];
    const opened = app.peers.length;
    for (const message of broken) {
      const s = await welcomedThen(message);
      assert.equal(await s.closeFrame(), 'c[3400,"Bad recovery message"]', JSON.stringify(message));
    }
    assert.deepEqual(app.peers.slice(opened).flatMap((p) => p.got), [], 'none reached the application');
    // An ack of more than the server sent lets nothing go and closes nothing: the probe is answered.
    const s = await welcomedThen(ctl({ t: 'ack', recv: 999, probe: true }));
    assert.deepEqual(parse(await s.next()), { t: 'ack', recv: 0, sent: 0 });
    await s.close();
  });

  test('the option is validated', () => {
    assert.throws(() => sockjs({ recovery: 'yes' as never }), /option "recovery" must be true, false or an object/);
    assert.throws(() => sockjs({ recovery: { window_ms: 0 } }), /option "recovery.window_ms" must be an integer/);
    assert.throws(() => sockjs({ recovery: { window: 1 } as never }), /unknown option "recovery.window"/);
    assert.deepEqual(sockjs({ recovery: true }).config.recovery, { window_ms: 120_000, max_messages: 1000, max_bytes: 1024 * 1024, max_parked: 10_000 });
    assert.equal(sockjs().config.recovery, null);
    assert.throws(() => sockjs({ recovery: { max_parked: 0 } }), /option "recovery.max_parked" must be an integer/);
  });

  test('the query parameters are read from the query only, by their whole name; a version is 1 to 4 digits', () => {
    const cases: [string, string, string | null][] = [
      ['/a?sockjs-recovery=1', 'sockjs-recovery', '1'],
      ['/a?x=1&sockjs-recovery=1&', 'sockjs-recovery', '1'],
      ['/a?sockjs-recovery-new=2&sockjs-recovery=1', 'sockjs-recovery', '1'],
      ['/a?xsockjs-recovery=1', 'sockjs-recovery', null],
      ['/sockjs-recovery=1/b', 'sockjs-recovery', null],
      ['/a?sockjs-recovery', 'sockjs-recovery', null],
      ['/a?sockjs-recovery=', 'sockjs-recovery', ''],
    ];
    for (const [url, name, value] of cases) assert.equal(queryValue(url, name), value, url);
    const versions: [string, number][] = [
      ['/a?sockjs-recovery-new=2', 2], ['/a?q&sockjs-recovery-new=10', 10], ['/a?sockjs-recovery-new=0', 0],
      ['/a?sockjs-recovery-new=2x', 0], ['/a?sockjs-recovery-new=12345', 0], ['/a?sockjs-recovery-new=-1', 0], ['/a', 0],
    ];
    for (const [url, v] of versions) assert.equal(helloInUrl(url), v, url);
  });

  test('the ack cadence is a quarter of the buffer, at least 1 and at most 256 messages', () => {
    assert.deepEqual(ackCadence(1000, 1024 * 1024), { ack: 250, ack_chars: 262144 });
    assert.deepEqual(ackCadence(100_000, 8), { ack: 256, ack_chars: 2 });
    assert.deepEqual(ackCadence(3, 1), { ack: 1, ack_chars: 1 });
  });
});

type Opened = { s: Awaited<ReturnType<typeof session>>; welcome: Record<string, unknown> };

/** A session through hello and welcome. */
async function opened(base: string, hello: object = { t: 'hello', v: 1 }): Promise<Opened> {
  const s = await session(base);
  assert.equal(parse(await s.next()).t, 'ready');
  s.send(ctl(hello));
  const welcome = parse(await s.next());
  assert.equal(welcome.t, 'welcome');
  return { s, welcome };
}

/** `opened`, once the server has room for one more session (a closed one is let go just after its socket). */
async function admitted(base: string, hello?: object): Promise<Opened> {
  let got: Opened | null = null;
  await waitUntil(async () => (got = await opened(base, hello).catch(() => null)) !== null, 'a session admitted');
  return got!;
}

describe('a session that times out with messages queued', () => {
  let app: RecoveryApp;
  before(async () => {
    app = await startRecoveryApp({ disconnect_delay: 100, recovery: { window_ms: 10_000 } }, 0.001);
  });
  after(async () => {
    await app.close();
  });

  test('xhr-polling: what it had not sent goes with the replay only, not to a poll that comes after it closed', async () => {
    let url = sessionUrl(app.directUrl);
    const poll = async (): Promise<string> => (await POST(url + '/xhr?sockjs-recovery=1')).body.trim();
    assert.equal(await poll(), 'o');
    assert.equal(await poll(), 'a[' + JSON.stringify(ctl({ t: 'ready', v: 2 })) + ']');
    const first = app.peers.length;
    await POST(url + '/xhr_send?sockjs-recovery=1', { body: JSON.stringify([ctl({ t: 'hello', v: 1 })]) });
    await waitUntil(() => app.peers.length === first + 1, 'the connection', 5000);
    const welcome = parse((JSON.parse((await poll()).slice(1)) as string[])[0]!);
    // No poll waits: the message stays queued in the session, which then times out.
    const conn = app.peers[first]!.conn;
    conn.write('queued');
    // Parked: the connection's outlet is its link now (the application sees no event).
    await waitUntil(() => conn.outlet instanceof Link, 'the session to time out', 5000);
    assert.equal(await poll(), 'c[1006,"Session timed out"]', 'a late poll gets the close frame alone');
    url = sessionUrl(app.directUrl);
    assert.equal(await poll(), 'o');
    await poll();
    await POST(url + '/xhr_send?sockjs-recovery=1', { body: JSON.stringify([ctl({ t: 'hello', v: 1, resume: welcome.token, recv: 0 })]) });
    const replay = (JSON.parse((await poll()).slice(1)) as string[]).map((m) => (m.startsWith('\u0000') ? parse(m).t : m));
    assert.deepEqual(replay, ['welcome', 'queued'], 'and the replay has it, once');
    assert.equal(app.peers[first]!.resumes, 1);
  });
});

describe('parked connections and the limits', () => {
  let app: RecoveryApp;
  before(async () => {
    app = await startRecoveryApp({ max_sessions: 2, disconnect_delay: 100, recovery: { window_ms: 30_000, max_parked: 2 } }, 0.001);
  });
  after(async () => {
    await app.close();
  });

  /** b's credential, for the second test. */
  let tokenB: unknown;

  /** Closes `o`, whose server side is `peer`, for good (the client's close message): it is not parked. */
  async function closeForGood(o: Opened, peer: Peer): Promise<void> {
    o.s.send(ctl({ t: 'close', code: 1000, reason: 'bye' }));
    await waitUntil(() => peer.closed !== null, 'closed for good');
    await o.s.close();
  }

  test('parked connections do not count toward max_sessions; a resuming client does', async () => {
    const a = await admitted(app.directUrl);
    const pa = app.peers.at(-1)!;
    const b = await admitted(app.directUrl);
    const pb = app.peers.at(-1)!;
    await assert.rejects(session(app.directUrl), /503/, 'two live sessions: the limit holds');
    await a.s.close();
    await b.s.close();
    // Both parked (still open for the application), and two new sessions get in.
    const c = await admitted(app.directUrl);
    const pc = app.peers.at(-1)!;
    const d = await opened(app.directUrl);
    const pd = app.peers.at(-1)!;
    assert.equal(pa.closed, null);
    assert.equal(pb.closed, null);
    assert.equal(app.router.connections.size, 4, 'two parked, two live');
    await assert.rejects(session(app.directUrl), /503/, 'resuming takes a live session like any other');
    await closeForGood(d, pd);
    const resumed = await admitted(app.directUrl, { t: 'hello', v: 1, resume: a.welcome.token, recv: 0 });
    assert.equal(resumed.welcome.recovered, true);
    assert.equal(pa.resumes, 1);
    // Left: b parked, the resumed a and c live.
    await closeForGood(resumed, pa);
    await closeForGood(c, pc);
    assert.equal(pb.closed, null);
    tokenB = b.welcome.token;
  });

  test('max_parked bounds them: one more parked ends the one parked longest, whose client is told it was not recovered', async () => {
    // From the test before: one parked connection (b).
    const pb = app.peers[1]!;
    assert.equal(app.router.connections.size, 1);
    const e = await admitted(app.directUrl);
    const pe = app.peers.at(-1)!;
    const f = await admitted(app.directUrl);
    const pf = app.peers.at(-1)!;
    await e.s.close();
    await waitUntil(() => app.router.connections.size === 3 && pb.closed === null, 'b and e parked, f live');
    await f.s.close();
    await waitUntil(() => pb.closed !== null, 'the oldest parked connection ends');
    assert.deepEqual(pb.closed, { code: 1006, reason: 'Too many parked connections' });
    assert.equal(pe.closed, null);
    assert.equal(pf.closed, null);
    assert.equal(app.router.connections.size, 2);
    const again = await admitted(app.directUrl, { t: 'hello', v: 1, resume: tokenB, recv: 0 });
    assert.equal(again.welcome.recovered, false);
    assert.equal(again.welcome.reason, 'unknown');
    await closeForGood(again, app.peers.at(-1)!);
    const back = await admitted(app.directUrl, { t: 'hello', v: 1, resume: e.welcome.token, recv: 0 });
    assert.equal(back.welcome.recovered, true);
    assert.equal(pe.resumes, 1);
    await closeForGood(back, pe);
  });
});
