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

test('demo: a page whose connections are cut reconnects and resumes its session: same room, nothing missed', async () => {
  const carol = await openAs('carol', 'xhr-streaming');
  await carol.waitForFunction(() => document.getElementById('presence')?.textContent?.includes('carol'), null, { timeout: 10000 });
  // Every HTTP connection of the server drops (the network failing); the sessions stay.
  demo.server.closeAllConnections();
  await carol.waitForFunction(() => Number(document.body.dataset.recovered ?? 0) >= 1, null, { timeout: 15000 });
  await carol.waitForFunction(() => document.getElementById('state')?.textContent === 'online', null, { timeout: 15000 });
  assert.equal(await carol.textContent('#room-title'), '#lobby', 'still in the room, without joining again');
  await say(carol, 'back again');
  await carol.waitForFunction(() => document.getElementById('messages')?.textContent?.includes('back again'), null, { timeout: 10000 });
  await carol.close();
});

test('demo: the server stops and restarts: pages reconnect, rejoin, and what was said offline is delivered once', async () => {
  const dave = await openAs('dave', 'websocket');
  const erin = await openAs('erin', 'xhr-streaming');
  await dave.waitForFunction(() => /dave.*erin/.test(document.getElementById('presence')?.textContent ?? ''), null, { timeout: 10000 });
  const port = (demo.server.address() as { port: number }).port;
  await demo.close();
  await dave.waitForFunction(() => document.getElementById('state')?.textContent === 'offline', null, { timeout: 10000 });
  await say(dave, 'said while the server was down');
  const mod = (await import('../../demo-app/server.mjs')) as { createDemo(): Demo };
  demo = mod.createDemo();
  await new Promise<void>((r) => demo.server.listen(port, '127.0.0.1', r));
  // The new process does not know the old connections: the client says so ('lost'), the page
  // joins again first, then sends what was typed meanwhile.
  for (const page of [dave, erin]) {
    await page.waitForFunction(() => document.getElementById('state')?.textContent === 'online', null, { timeout: 30000 });
  }
  await erin.waitForFunction(() => document.getElementById('messages')?.textContent?.includes('said while the server was down'), null, { timeout: 15000 });
  await say(erin, 'welcome back');
  await dave.waitForFunction(() => document.getElementById('messages')?.textContent?.includes('welcome back'), null, { timeout: 10000 });
  const said = (await texts(erin)).filter((t) => t === 'said while the server was down');
  assert.equal(said.length, 1, 'delivered once');
  await dave.close();
  await erin.close();
});
