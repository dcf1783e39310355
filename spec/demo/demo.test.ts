/**
 * The demo app in a real browser: two pages on different transports chat with each other in
 * one room, see each other in the presence list, show their transport and round-trip time, and
 * the server panel fills in. Saves a screenshot (its path is printed).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../e2e/browser.js';

interface Demo {
  server: import('node:http').Server;
  service: import('../../lib/index.js').SockJSRouter;
  close(): Promise<void>;
}

let demo: Demo;
let browser: Browser;
let base: string;

before(async () => {
  // The demo imports the built package by name, as an application would.
  const mod = (await import('../../demo-app/server.mjs')) as { createDemo(): Demo };
  demo = mod.createDemo();
  await new Promise<void>((r) => demo.server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(demo.server.address() as { port: number }).port}`;
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await demo?.close();
});

async function openAs(nick: string, transport: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1200, height: 720 } });
  await page.goto(`${base}/?transport=${transport}&nick=${nick}`);
  await page.waitForFunction((t) => document.getElementById('transport')?.textContent === t, transport, { timeout: 15000 });
  await page.click('#rooms button[data-room="lobby"]');
  await page.waitForFunction(() => document.getElementById('room-title')?.textContent === '#lobby', null, { timeout: 10000 });
  return page;
}

async function say(page: Page, text: string): Promise<void> {
  await page.fill('#say', text);
  await page.click('#say-button');
}

const texts = (page: Page): Promise<string[]> =>
  page.$$eval('#messages li:not(.notice) .text', (els) => els.map((e) => e.textContent ?? ''));

test('demo: two pages on websocket and xhr-polling chat in one room, with presence, transport, RTT and the server panel', async () => {
  const alice = await openAs('alice', 'websocket');
  const bob = await openAs('bob', 'xhr-polling');
  await alice.waitForFunction(() => [...document.querySelectorAll('#presence li')].map((l) => l.textContent).join(',') === 'alice,bob', null, { timeout: 10000 });

  await say(alice, 'hi bob <b>not bold</b>');
  await say(bob, 'hello alice 👋');
  for (const page of [alice, bob]) {
    await page.waitForFunction(() => document.querySelectorAll('#messages li:not(.notice)').length >= 2, null, { timeout: 10000 });
    assert.deepEqual(await texts(page), ['hi bob <b>not bold</b>', 'hello alice 👋']);
    assert.equal(await page.$$eval('#messages b', (els) => els.length), 0, 'user text is never parsed as HTML');
    await page.waitForFunction(() => /\d+ ms/.test(document.getElementById('rtt')?.textContent ?? ''), null, { timeout: 10000 });
  }
  assert.equal(await alice.textContent('#transport'), 'websocket');
  assert.equal(await bob.textContent('#transport'), 'xhr-polling');
  await alice.waitForFunction(() => Number(document.getElementById('s-sessions')?.textContent) >= 2, null, { timeout: 10000 });

  const dir = mkdtempSync(join(tmpdir(), 'sockjs-express-demo-'));
  const shot = join(dir, 'demo.png');
  await alice.screenshot({ path: shot });
  console.log(`demo screenshot: ${shot}`);
  await alice.close();
  await bob.close();
});

test('demo: a page reconnects with backoff when the server drops its session, and rejoins its room', async () => {
  const carol = await openAs('carol', 'xhr-streaming');
  await carol.waitForFunction(() => document.getElementById('presence')?.textContent?.includes('carol'), null, { timeout: 10000 });
  for (const conn of [...demo.service.connections]) conn.close(4000, 'Kicked by the test');
  await carol.waitForFunction(() => /Reconnecting in/.test(document.getElementById('reconnect')?.textContent ?? ''), null, { timeout: 10000 });
  assert.match((await carol.textContent('#reconnect')) ?? '', /Connection lost \(4000 Kicked by the test\)/);
  await carol.waitForFunction(() => document.getElementById('state')?.textContent === 'online', null, { timeout: 15000 });
  await carol.waitForFunction(() => document.getElementById('presence')?.textContent?.includes('carol'), null, { timeout: 10000 });
  await say(carol, 'back again');
  await carol.waitForFunction(() => document.getElementById('messages')?.textContent?.includes('back again'), null, { timeout: 10000 });
  await carol.close();
});
