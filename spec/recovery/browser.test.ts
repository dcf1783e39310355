/**
 * Recovery in real headless Chromium, for every transport sockjs-client has there: the page
 * loads sockjs-client and the companion client's browser script, a chaos proxy between page and
 * server cuts connections at random moments (mid-frame too) while both sides send 100 messages
 * a second, and each side must get every message once, in order, with the server's connection
 * resumed each time; and a client away longer than the window is told so. RECOVERY_CHAOS_MS sets
 * how long the chaos lasts per transport (default 4 s).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../e2e/browser.js';
import { sequence, startRecoveryApp, type RecoveryApp } from './app.js';
import { waitUntil } from '../support/wait.js';

const CHAOS_MS = Number(process.env.RECOVERY_CHAOS_MS ?? 4000);
const TRANSPORTS = ['websocket', 'xhr-streaming', 'xhr-polling', 'eventsource', 'iframe-eventsource', 'iframe-htmlfile', 'iframe-xhr-polling', 'jsonp-polling'];

const PAGE = `<!doctype html><meta charset="utf-8"><script src="/sockjs.js"></script><script src="/client.js"></script>
<script>
window.run = function (transport) {
  var s = { got: [], events: [], sent: 0, writing: true };
  var sock = SockJSExpressClient.connect('/chat', { transports: [transport], reconnect: { initialDelay: 50, maxDelay: 300 }, stallTimeout: 2000 });
  sock.on('message', function (m) { s.got.push(m); });
  ['open', 'reconnected', 'recovered', 'lost', 'close'].forEach(function (e) { sock.on(e, function (i) { s.events.push(i && i.code ? e + ':' + i.code + ':' + i.reason : i && i.reason ? e + ':' + i.reason : e); }); });
  sock.on('open', function () {
    var t = setInterval(function () { if (!s.writing) return clearInterval(t); sock.send('C' + s.sent++); }, 10);
  });
  s.sock = sock;
  window.state = s;
};
window.summary = function () {
  var s = window.state;
  return { got: s.got.length, ordered: s.got.every(function (m, i) { return m === 'S' + i; }), events: s.events, sent: s.sent, state: s.sock.state };
};
// For the window test: no writing of its own; what arrives and what 'lost' reports are kept.
window.quiet = function (transport) {
  var s = { got: [], events: [], unconfirmed: [] };
  var sock = SockJSExpressClient.connect('/chat', { transports: [transport], reconnect: { initialDelay: 50, maxDelay: 300 } });
  sock.on('message', function (m) { s.got.push(m); });
  sock.on('lost', function (i) { s.events.push('lost:' + i.reason); s.unconfirmed = s.unconfirmed.concat(i.unconfirmed); });
  sock.on('recovered', function () { s.events.push('recovered'); });
  s.say = function (m) { sock.send(m); };
  s.state = function () { return sock.state; };
  window.q = s;
};
</script>`;

describe('recovery in Chromium', () => {
  let app: RecoveryApp;
  let browser: Browser;
  before(async () => {
    app = await startRecoveryApp({ recovery: { window_ms: 30_000 }, response_limit: 4096, disconnect_delay: 1000, sockjs_url: '/sockjs.js' }, 100, { '/page.html': PAGE });
    browser = await launchChromium();
  });
  after(async () => {
    await browser.close();
    await app.close();
  });

  for (const transport of TRANSPORTS) {
    test(`${transport}: random cuts while both sides send 100 msg/s: everything once, in order`, async () => {
      const page: Page = await browser.newPage();
      try {
        await page.goto(app.url.replace('/chat', '/page.html'));
        const first = app.peers.length;
        await page.evaluate((t) => (window as unknown as { run(t: string): void }).run(t), transport);
        type Summary = { got: number; ordered: boolean; events: string[]; sent: number; state: string };
        const summary = (): Promise<Summary> => page.evaluate(() => (window as unknown as { summary(): Summary }).summary());
        await waitUntil(() => app.peers.length > first, 'connection', 10_000);
        await waitUntil(() => app.peers[first]!.got.length > 0, 'first message', 10_000);
        app.proxy.startChaos(200, 700);
        await new Promise((r) => setTimeout(r, CHAOS_MS));
        app.proxy.stopChaos();
        // Random cuts need not break a session: sockjs-client reopens an eventsource receiver in
        // the same session after a network error, and a polling transport's cut may fall between
        // polls. So every run also ends with an outage that lasts until the client has given up
        // its session (at once, or by stall detection), which only a resume gets through.
        app.proxy.refuse = true;
        app.proxy.cutAll();
        await waitUntil(async () => (await summary()).state !== 'open', 'the client to leave its cut-off session', 10_000);
        app.proxy.refuse = false;
        await page.evaluate(() => {
          (window as unknown as { state: { writing: boolean } }).state.writing = false;
        });
        const mine = app.peers.slice(first);
        const peer = mine.at(-1)!;
        for (const orphan of mine.slice(0, -1)) assert.equal(orphan.got.length, 0, 'an orphan connection got nothing');
        let s = await summary();
        const reopen = Date.now() + 30_000;
        while ((s = await summary()).state !== 'open' && Date.now() < reopen) await new Promise((r) => setTimeout(r, 50));
        assert.equal(s.state, 'open', JSON.stringify(s));
        app.stopWriting();
        const sent = (await summary()).sent;
        const total = peer.sent;
        const deadline = Date.now() + 25_000;
        while (((s = await summary()).got < total || peer.got.length < sent) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
        assert.equal(s.got, total, `client got ${s.got} of ${total}: ${JSON.stringify(s.events)} ${JSON.stringify(mine.map((p) => [p.closed, p.resumes, p.got.length]))}`);
        assert.ok(s.ordered, 'client got S0, S1, … in order');
        assert.deepEqual(peer.got, sequence('C', sent));
        assert.ok(!s.events.some((e) => e.startsWith('lost')), 'never lost: ' + s.events.join(','));
        const recovered = s.events.filter((e) => e === 'recovered').length;
        assert.ok(recovered >= 1 && peer.resumes >= recovered, `${recovered} recoveries, ${peer.resumes} resumes, ${app.proxy.cuts} cuts`);
        console.log(`${transport}: ${recovered} recoveries, ${peer.resumes} resumes, ${total} + ${sent} messages`);
      } finally {
        await page.close();
      }
    });
  }
});

describe('recovery in Chromium, away longer than the window', () => {
  let app: RecoveryApp;
  let browser: Browser;
  before(async () => {
    // The test writes; the connections write nothing of their own (rate 0.001/s).
    app = await startRecoveryApp({ recovery: { window_ms: 1500 }, disconnect_delay: 500, sockjs_url: '/sockjs.js' }, 0.001, { '/page.html': PAGE });
    browser = await launchChromium();
  });
  after(async () => {
    await browser.close();
    await app.close();
  });

  for (const transport of TRANSPORTS) {
    test(`${transport}: the client is told it was not recovered, and nothing is lost silently`, async () => {
      const page: Page = await browser.newPage();
      type Q = { got: string[]; events: string[]; unconfirmed: string[]; state: string };
      const q = (): Promise<Q> => page.evaluate(() => {
        const s = (window as unknown as { q: Q & { state(): string } }).q;
        return { got: s.got, events: s.events, unconfirmed: s.unconfirmed, state: s.state() };
      });
      const say = (m: string): Promise<void> => page.evaluate((x) => (window as unknown as { q: { say(m: string): void } }).q.say(x), m);
      try {
        await page.goto(app.url.replace('/chat', '/page.html'));
        const first = app.peers.length;
        await page.evaluate((t) => (window as unknown as { quiet(t: string): void }).quiet(t), transport);
        await waitUntil(() => app.peers.length > first, 'connection', 10_000);
        const old = app.peers[first]!;
        old.conn.write('hello');
        await say('before');
        await waitUntil(async () => old.got.length === 1 && (await q()).got.length === 1, 'a message each way', 10_000);
        app.proxy.refuse = true;
        app.proxy.cutAll();
        await waitUntil(() => old.closed !== null, 'the window to end', 15_000);
        assert.deepEqual(old.closed, { code: 1006, reason: 'Session timed out' });
        old.conn.write('while away');
        await say('queued while away');
        app.proxy.refuse = false;
        await waitUntil(async () => (await q()).events.length > 0, 'lost', 20_000);
        await waitUntil(() => app.peers.length > first + 1 && app.peers.at(-1)!.got.includes('queued while away'), 'the new connection', 20_000);
        const s = await q();
        assert.deepEqual(s.events, ['lost:unknown']);
        assert.deepEqual(s.got, ['hello'], 'nothing written to the closed connection arrives');
        const now = app.peers.at(-1)!;
        for (const m of ['before', 'queued while away']) {
          assert.ok(old.got.includes(m) || now.got.includes(m) || s.unconfirmed.includes(m), `${m}: delivered, or reported unconfirmed`);
        }
        assert.ok(!old.got.includes('queued while away'), 'what was never sent goes on the new connection only');
      } finally {
        await page.close();
      }
    });
  }
});
