/**
 * The Nest application of spec/nestjs/app.ts with sockjs-client in headless Chromium: every
 * transport a browser has reaches the gateway, gets its answers and its exceptions.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Browser } from 'playwright-core';
import { HARNESS_JS, TestPage, launchChromium, pageHtml } from '../e2e/browser.js';
import { fixture, type Fixture } from './fixture.js';


const require = createRequire(import.meta.url);
const BUNDLE = readFileSync(require.resolve('sockjs-client/dist/sockjs.min.js'), 'utf8');

// Same origin: every sockjs-client transport works in Chromium.
const TRANSPORTS = ['websocket', 'xhr-streaming', 'xhr-polling', 'eventsource', 'iframe-eventsource', 'iframe-htmlfile', 'iframe-xhr-polling', 'jsonp-polling'];

interface Conversation {
  transport: string;
  answers: unknown[];
  close: { code: number; reason: string };
}

// The page's side, as source text: tsx would wrap functions written here in a helper the page lacks.
const TALK = `(url, transport) => new Promise((resolve, reject) => {
  const sock = new SockJS(url, null, { transports: [transport], timeout: 10000 });
  const answers = [];
  let opened = null;
  const timer = setTimeout(() => reject(new Error('only ' + answers.length + ' answers')), 20000);
  sock.onopen = () => {
    opened = sock.transport;
    for (const [event, data] of [['echo', 'é ☃ \\u2028 "quoted"'], ['count', 2], ['fail', 'refused'], ['shout', 'from chromium']]) {
      sock.send(JSON.stringify({ event, data }));
    }
  };
  sock.onmessage = (e) => {
    answers.push(JSON.parse(e.data));
    if (answers.length === 5) sock.close();
  };
  sock.onclose = (e) => {
    clearTimeout(timer);
    resolve({ transport: opened, answers, close: { code: e.code, reason: e.reason } });
  };
})`;

describe('sockjs-express/nestjs: sockjs-client in Chromium', { concurrency: 2 }, () => {
  let browser: Browser;
  let app: Awaited<ReturnType<Fixture['startApp']>>['app'];
  let base = '';

  before(async () => {
    browser = await launchChromium();
    ({ app, base } = await fixture.startApp({
      '/e2e.html': ['text/html; charset=UTF-8', pageHtml('/sockjs.min.js')],
      '/harness.js': ['application/javascript; charset=UTF-8', HARNESS_JS],
      '/sockjs.min.js': ['application/javascript; charset=UTF-8', BUNDLE],
    }));
  });
  after(async () => {
    await browser?.close();
    await app?.close();
  });

  for (const transport of TRANSPORTS) {
    test(`${transport}: answers, an Observable's values, a WsException, a pipe, then a clean close`, { timeout: 60_000 }, async () => {
      const tp = await TestPage.open(browser, base + '/e2e.html');
      try {
        const c = (await tp.page.evaluate(`(${TALK})(${JSON.stringify(base + '/chat')}, ${JSON.stringify(transport)})`)) as Conversation;
        assert.equal(c.transport, transport, `closed ${c.close.code} ${c.close.reason} before opening; ${tp.diagnostics()}`);
        // Answers go out as they are ready (as with Nest's ws adapter), so their order is not fixed;
        // the count's two values keep theirs.
        const byText = (xs: unknown[]): string[] => xs.map((x) => JSON.stringify(x)).sort();
        assert.deepEqual(byText(c.answers), byText([
          { event: 'echo', data: 'é ☃ \u2028 "quoted"' },
          { event: 'count', data: 1 },
          { event: 'count', data: 2 },
          { event: 'exception', data: { status: 'error', message: 'refused', cause: { pattern: 'fail', data: 'refused' } } },
          { event: 'shout', data: 'FROM CHROMIUM' },
        ]), tp.diagnostics());
        const counts = c.answers.filter((a) => (a as { event: string }).event === 'count');
        assert.deepEqual(counts, [{ event: 'count', data: 1 }, { event: 'count', data: 2 }]);
        assert.deepEqual(c.close, { code: 1000, reason: 'Normal closure' });
      } finally {
        await tp.close();
      }
    });
  }
});
