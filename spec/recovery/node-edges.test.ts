/**
 * The edges of recovery, with the companion client in Node: a completed streaming response
 * whose tail the network drops (SockJS itself reopens the receiver on the same session and
 * would go on after a gap), a client that stays away longer than the window, a server whose
 * `ready` comes late or is lost, and the acknowledgement cadence a small replay buffer asks for.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { connect, type LostInfo, type SockJSConstructor, type SockJSLike } from '../../lib/client/index.js';
import { startRecoveryApp, type RecoveryApp } from './app.js';
import { waitUntil } from '../support/wait.js';

const SockJS = createRequire(import.meta.url)('sockjs-client') as SockJSConstructor;

/**
 * sockjs-client whose next `swallow.n` sessions lose the server's first `ready` (a session too slow
 * to deliver it), or another control message named in `swallow.what`, or get it `swallow.ms` late,
 * and which records in `sent` what the companion client sends.
 */
function tapped(swallow: { n: number; ms?: number; made?: number; what?: string }, sent: string[] = []): SockJSConstructor {
  return class implements SockJSLike {
    private readonly inner: SockJSLike;
    onopen: (() => void) | null = null;
    onmessage: ((e: { data: unknown }) => void) | null = null;
    onclose: ((e: { code: number; reason: string }) => void) | null = null;
    constructor(url: string, reserved?: null, options?: Record<string, unknown>) {
      this.inner = new SockJS(url, reserved, options);
      swallow.made = (swallow.made ?? 0) + 1;
      let eat = swallow.n > 0;
      if (eat) swallow.n--;
      this.inner.onopen = () => this.onopen?.();
      this.inner.onmessage = (e) => {
        if (eat && String(e.data).startsWith(`\u0000{"t":"${swallow.what ?? 'ready'}"`)) {
          eat = false;
          if (swallow.ms !== undefined) setTimeout(() => this.onmessage?.(e), swallow.ms);
        } else this.onmessage?.(e);
      };
      this.inner.onclose = (e) => this.onclose?.(e);
    }
    get readyState(): number {
      return this.inner.readyState;
    }
    get transport(): string | undefined {
      return this.inner.transport;
    }
    send(data: string): void {
      sent.push(data);
      this.inner.send(data);
    }
    close(code?: number, reason?: string): void {
      this.inner.close(code, reason);
    }
  };
}

describe('recovery edges', () => {
  let app: RecoveryApp;
  before(async () => {
    // Writes only when the test says so (rate 0.001/s): the test controls every message.
    app = await startRecoveryApp({ recovery: { window_ms: 600 }, response_limit: 4096, disconnect_delay: 300 }, 0.001);
  });
  after(async () => {
    await app.close();
  });

  for (const transport of ['eventsource', 'xhr-streaming']) {
    test(`${transport}: a completed response whose tail is dropped: the gap is seen and repaired`, async (t) => {
      const first = app.peers.length;
      const sock = connect(app.url, { SockJS, transports: [transport], reconnect: { initialDelay: 20, maxDelay: 100 } });
      // Closed even when an assertion fails, or its reconnects keep the file from ending.
      t.after(() => sock.close());
      const got: string[] = [];
      const events: string[] = [];
      sock.on('message', (m) => got.push(m));
      sock.on('recovered', () => events.push('recovered'));
      sock.on('lost', () => events.push('lost'));
      await waitUntil(() => sock.state === 'open' && app.peers.length > first, 'open', 10_000);
      const conn = app.peers[first]!.conn;
      const dropped = app.proxy.dropNextTail();
      // Longer than response_limit: the response ends right after this message, and loses it.
      const big = 'x'.repeat(5000);
      conn.write(big);
      await dropped;
      conn.write('after');
      await waitUntil(() => got.length >= 2, () => `got ${got.length} messages`, 10_000);
      assert.deepEqual(got.map((m) => (m.length > 10 ? m.length : m)), [5000, 'after']);
      assert.ok(!events.includes('lost'));
      assert.ok(app.peers[first]!.resumes >= 1, 'the server resumed the connection');
    });
  }

  test('websocket: away longer than the window: the client reports lost, the app gets close then a new connection', async (t) => {
    const first = app.peers.length;
    const sock = connect(app.url, { SockJS, transports: ['websocket'], reconnect: { initialDelay: 20, maxDelay: 100 } });
    t.after(() => sock.close());
    const got: string[] = [];
    let lost: LostInfo | null = null;
    sock.on('message', (m) => got.push(m));
    sock.on('lost', (info) => (lost = info));
    await waitUntil(() => sock.state === 'open' && app.peers.length > first, 'open', 10_000);
    const peer = app.peers[first]!;
    sock.send('before');
    await waitUntil(() => peer.got.length === 1, 'first message', 5000);
    app.proxy.refuse = true;
    app.proxy.cutAll();
    await waitUntil(() => peer.closed !== null, 'window end', 10_000);
    assert.deepEqual(peer.closed, { code: 1006, reason: 'Session timed out' });
    peer.conn.write('while away');
    sock.send('queued while away');
    app.proxy.refuse = false;
    await waitUntil(() => lost !== null, 'lost', 10_000);
    assert.equal(lost!.reason, 'unknown');
    await waitUntil(() => app.peers.length === first + 2 && app.peers[first + 1]!.got.length === 1, 'new connection', 10_000);
    assert.deepEqual(app.peers[first + 1]!.got, ['queued while away'], 'what was never sent goes on the new connection');
    assert.deepEqual(got, [], 'nothing written to the closed connection arrives');
  });
});

describe('a late ready', () => {
  let app: RecoveryApp;
  before(async () => {
    app = await startRecoveryApp({ recovery: { window_ms: 10_000 } }, 0.001);
  });
  after(async () => {
    await app.close();
  });

  /** A companion client over `tapped` sockjs-client (readyTimeout 300), open, with its recovered/lost events. */
  async function openTapped(t: { after(fn: () => void): void }): Promise<{ swallow: { n: number; ms?: number }; events: string[] }> {
    const first = app.peers.length;
    const swallow: { n: number; ms?: number } = { n: 0 };
    const sock = connect(app.url, { SockJS: tapped(swallow), transports: ['websocket'], readyTimeout: 300, reconnect: { initialDelay: 20, maxDelay: 100 } });
    t.after(() => sock.close());
    const events: string[] = [];
    sock.on('recovered', () => events.push('recovered'));
    sock.on('lost', (info) => events.push('lost:' + info.reason));
    await waitUntil(() => sock.state === 'open' && app.peers.length > first, 'open', 10_000);
    return { swallow, events };
  }

  test('a server that welcomed the client before and whose ready comes late is retried, not taken for a plain one; three late in a row are', async (t) => {
    const { swallow, events } = await openTapped(t);
    swallow.n = 2;
    app.proxy.cutAll();
    await waitUntil(() => events.length > 0, 'recovered or lost', 10_000);
    assert.deepEqual(events, ['recovered'], 'two late readies: retried, then resumed');
    assert.equal(swallow.n, 0);
    swallow.n = 3;
    app.proxy.cutAll();
    await waitUntil(() => events.length > 1, 'recovered or lost', 10_000);
    assert.deepEqual(events, ['recovered', 'lost:unsupported'], 'the third late ready in a row: a server without recovery');
  });

  test('xhr-polling: a ready lost with an earlier poll comes again with the next: the first session still opens a recoverable connection', async (t) => {
    const first = app.peers.length;
    // A client that was never welcomed takes a server whose ready does not come for a plain one.
    const swallow: { n: number; made?: number } = { n: 1 };
    const sock = connect(app.url, { SockJS: tapped(swallow), transports: ['xhr-polling'], readyTimeout: 2000 });
    t.after(() => sock.close());
    await waitUntil(() => sock.state === 'open' && app.peers.length > first, 'a recoverable connection', 10_000);
    assert.equal(swallow.n, 0, 'the first ready was lost');
    assert.equal(swallow.made, 1, 'on the first session');
  });

  test('xhr-polling: a welcome lost with an earlier poll comes again with the next: no second connection', async (t) => {
    const first = app.peers.length;
    const swallow: { n: number; made?: number; what: string } = { n: 1, what: 'welcome' };
    const sock = connect(app.url, { SockJS: tapped(swallow), transports: ['xhr-polling'], readyTimeout: 2000 });
    t.after(() => sock.close());
    await waitUntil(() => sock.state === 'open', 'open', 10_000);
    assert.equal(swallow.n, 0, 'the first welcome was lost');
    assert.equal(swallow.made, 1, 'on the first session');
    sock.send('one');
    await waitUntil(() => app.peers.length > first && app.peers.at(-1)!.got.length === 1, 'the message', 5000);
    assert.equal(app.peers.length, first + 1, 'one connection, no orphan');
  });

  test('the third attempt in a row waits four times readyTimeout for its ready: a loaded server is not taken for a plain one', async (t) => {
    const { swallow, events } = await openTapped(t);
    // Each of the next three sessions gets its ready after 600 ms: the first two are given up at
    // 300, the third waits up to 1,500.
    Object.assign(swallow, { n: 3, ms: 600 });
    app.proxy.cutAll();
    await waitUntil(() => events.length > 0, 'recovered or lost', 10_000);
    assert.deepEqual(events, ['recovered']);
    assert.equal(swallow.n, 0, 'three sessions');
  });
});

describe('the acknowledgement cadence', () => {
  let app: RecoveryApp;
  before(async () => {
    // A quarter of the buffer: every 2 messages (of 8), or every 100 characters (of 400).
    app = await startRecoveryApp({ recovery: { window_ms: 10_000, max_messages: 8, max_bytes: 400 } }, 0.001);
  });
  after(async () => {
    await app.close();
  });

  test('the client acknowledges as often as the welcome asks: a small replay buffer gets its acks in time', async (t) => {
    const first = app.peers.length;
    const sent: string[] = [];
    const sock = connect(app.url, { SockJS: tapped({ n: 0 }, sent), transports: ['websocket'] });
    t.after(() => sock.close());
    const got: string[] = [];
    sock.on('message', (m) => got.push(m));
    await waitUntil(() => sock.state === 'open' && app.peers.length > first, 'open', 10_000);
    const conn = app.peers[first]!.conn;
    // Its probes (a silent server) are not part of the cadence.
    const acks = (): number[] => sent.filter((m) => m.startsWith('\u0000{"t":"ack"') && !m.includes('probe')).map((m) => (JSON.parse(m.slice(1)) as { recv: number }).recv);
    for (let i = 0; i < 12; i++) conn.write('m' + i);
    await waitUntil(() => acks().at(-1) === 12, () => `acks ${JSON.stringify(acks())}`, 5000);
    assert.deepEqual(acks(), [2, 4, 6, 8, 10, 12], 'every 2 messages, not after a second');
    // 120 characters each: past the character bound (100) every message, before the count's.
    for (let i = 0; i < 3; i++) conn.write('x'.repeat(120));
    await waitUntil(() => acks().at(-1) === 15, () => `acks ${JSON.stringify(acks())}`, 5000);
    assert.deepEqual(acks().slice(6), [13, 14, 15], 'a message over 100 characters is acknowledged on its own');
    assert.equal(got.length, 15);
  });
});

describe('the hello in the URL', () => {
  let app: RecoveryApp;
  before(async () => {
    app = await startRecoveryApp({ recovery: { window_ms: 10_000 } }, 0.001);
  });
  after(async () => {
    await app.close();
  });

  test('a new connection over a websocket sends nothing to open: no hello, and no ack of its welcome', async (t) => {
    const sent: string[] = [];
    const sock = connect(app.url, { SockJS: tapped({ n: 0 }, sent), transports: ['websocket'] });
    t.after(() => sock.close());
    await waitUntil(() => sock.state === 'open' && app.peers.length === 1, 'open', 10_000);
    sock.send('first');
    await waitUntil(() => app.peers[0]!.got.length === 1, 'the first message', 5000);
    assert.deepEqual(sent, ['first']);
  });

  test('over HTTP the server waits for the hello message (a dropped poll could take ready and the welcome with it), and the welcome is acknowledged', async (t) => {
    const sent: string[] = [];
    const sock = connect(app.url, { SockJS: tapped({ n: 0 }, sent), transports: ['xhr-streaming'] });
    t.after(() => sock.close());
    await waitUntil(() => sock.state === 'open' && app.peers.length === 2, 'open', 10_000);
    // … and acknowledges the welcome, which the server would otherwise send again with each new response.
    assert.deepEqual(sent, ['\u0000{"t":"hello","v":2}', '\u0000{"t":"ack","recv":0}']);
  });
});

describe('messages that start with U+0000', () => {
  let app: RecoveryApp;
  before(async () => {
    app = await startRecoveryApp({ recovery: { window_ms: 10_000 } }, 0.001);
  });
  after(async () => {
    await app.close();
  });

  test('reach the client as they were, whether written or sent to a room, and are not taken for control messages', async (t) => {
    const sock = connect(app.url, { SockJS, transports: ['websocket'] });
    t.after(() => sock.close());
    const got: string[] = [];
    sock.on('message', (m) => got.push(m));
    await waitUntil(() => sock.state === 'open' && app.peers.length === 1, 'open', 10_000);
    const conn = app.peers[0]!.conn;
    conn.join('nul');
    const sent = ['\u0000{"t":"ack","recv":0}', 'plain', '\u0000', '\u0000\u0000x', '\u0000{"t":"close","code":1,"reason":""}', 'last'];
    sent.forEach((m, i) => (i % 2 === 0 ? app.router.to('nul').send(m) : conn.write(m)));
    await waitUntil(() => got.length >= sent.length, 'all of them', 5000);
    assert.deepEqual(got, sent);
    assert.equal(sock.state, 'open');
  });
});
