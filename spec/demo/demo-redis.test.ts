/**
 * The demo on two processes sharing a real redis-server (demo-app/cluster.mjs: two server.mjs
 * processes behind its sticky proxy), in Chromium: the process of one page is killed (SIGKILL)
 * while the other page keeps talking; the page resumes on the surviving process, and both pages
 * show the same conversation, every message once, in order.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { spawn, type ChildProcess } from 'node:child_process';
import type { Server } from 'node:http';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../e2e/browser.js';
import { waitUntil } from '../support/wait.js';
import { canConnect, freePort } from '../support/ports.js';

interface ClusterModule {
  startStickyProxy(ports: number[]): Promise<Server>;
  startDemoProcess(port: number, redisUrl: string): Promise<ChildProcess>;
}

const children: ChildProcess[] = [];
const byPid = new Map<string, ChildProcess>();
let proxy: Server;
let browser: Browser;
let base = '';


before(async () => {
  const redisPort = await freePort();
  children.push(spawn('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' }));
  await waitUntil(() => canConnect(redisPort), 'redis-server to listen', 20_000);
  const cluster: ClusterModule = await import('../../demo-app/cluster.mjs');
  const ports = [await freePort(), await freePort()];
  for (const port of ports) {
    const child = await cluster.startDemoProcess(port, `redis://127.0.0.1:${redisPort}`);
    children.push(child);
    byPid.set(String(child.pid), child);
  }
  proxy = await cluster.startStickyProxy(ports);
  base = `http://127.0.0.1:${(proxy.address() as net.AddressInfo).port}`;
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  proxy?.close();
  for (const c of children) c.kill('SIGKILL');
});

async function openAs(nick: string, transport: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1200, height: 720 } });
  await page.goto(`${base}/?transport=${transport}&nick=${nick}`);
  await page.waitForFunction((t) => document.getElementById('transport')?.textContent === t, transport, { timeout: 20_000 });
  await page.click('#rooms button[data-room="lobby"]');
  await page.waitForFunction(() => document.getElementById('room-title')?.textContent === '#lobby', null, { timeout: 10_000 });
  return page;
}

async function say(page: Page, text: string): Promise<void> {
  await page.fill('#say', text);
  await page.click('#say-button');
}

const texts = (page: Page): Promise<string[]> => page.$$eval('#messages li:not(.notice) .text', (els) => els.map((e) => e.textContent ?? ''));
const shows = (page: Page, text: string): Promise<unknown> =>
  page.waitForFunction((t) => [...document.querySelectorAll('#messages li:not(.notice) .text')].some((e) => e.textContent === t), text, { timeout: 30_000 });

test('demo with Redis on two processes: one is killed, its page resumes on the other, and the conversation goes on with nothing missing', async () => {
  const alice = await openAs('alice', 'websocket');
  const bob = await openAs('bob', 'xhr-streaming');
  await say(alice, 'one');
  await say(bob, 'two');
  for (const page of [alice, bob]) await shows(page, 'two');
  await new Promise((r) => setTimeout(r, 1500)); // the server acknowledges what the pages said

  const victim = await alice.evaluate(() => document.body.dataset.server ?? '');
  const bobsServer = await bob.evaluate(() => document.body.dataset.server ?? '');
  assert.ok(byPid.has(victim), `alice's page knows its server process (${victim})`);
  byPid.get(victim)!.kill('SIGKILL');
  await alice.waitForFunction(() => document.getElementById('state')?.textContent === 'offline', null, { timeout: 15_000 });
  // Said while alice's page is away: by bob, and by alice (queued in her page).
  await say(bob, 'while alice was away');
  await say(alice, 'typed while offline');
  await alice.waitForFunction(() => Number(document.body.dataset.moved ?? 0) >= 1, null, { timeout: 30_000 });
  await alice.waitForFunction(() => document.getElementById('state')?.textContent === 'online', null, { timeout: 15_000 });
  // The new process greets the page's channel after `recovered` (the multiplexer subscribes again).
  await alice.waitForFunction((v) => (document.body.dataset.server ?? v) !== v, victim, { timeout: 15_000 })
    .catch(() => undefined);
  assert.notEqual(await alice.evaluate(() => document.body.dataset.server), victim, 'alice is on the other process now');
  await say(alice, 'after the move');
  for (const page of [alice, bob]) await shows(page, 'after the move');
  await new Promise((r) => setTimeout(r, 500)); // a duplicate would arrive now

  const expected = ['one', 'two'];
  const seen = await texts(bob);
  assert.deepEqual(await texts(alice), seen, 'both pages show the same conversation');
  assert.deepEqual(seen.slice(0, 2), expected);
  for (const t of ['while alice was away', 'typed while offline', 'after the move']) {
    assert.equal(seen.filter((s) => s === t).length, 1, `"${t}" once`);
  }
  assert.equal(seen.length, 5);
  assert.equal(await alice.textContent('#room-title'), '#lobby', 'still in the room');
  void bobsServer;
  await alice.close();
  await bob.close();
});
