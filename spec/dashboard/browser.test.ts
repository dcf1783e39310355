/** The dashboard page in headless Chromium: it renders, its figures follow sessions as they come and go, and its Close button works. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../e2e/browser.js';
import type { WsClient } from '../support/client.js';
import { waitUntil } from '../protocol/helpers.js';
import { openPage, stalledConsumer, startDashboardServer } from './fixture.js';

let browser: Browser;
before(async () => {
  browser = await launchChromium();
});
after(async () => {
  await browser.close();
});

/** Waits until the sessions tile shows `n` (the page polls once a second). */
async function sessionsShown(page: Page, n: number, problems: string[]): Promise<void> {
  try {
    await page.waitForFunction((want) => document.getElementById('v-sessions')?.textContent === want, String(n), { timeout: 15_000 });
  } catch (err) {
    const shown = await page.textContent('#v-sessions');
    throw new Error(`the page shows ${shown} sessions, not ${n}\n${problems.join('\n')}`, { cause: err });
  }
}

test('dashboard page: renders, and its numbers follow sessions as they open and close', { timeout: 60_000 }, async () => {
  const s = await startDashboardServer();
  const { page, problems } = await openPage(browser, s.url);
  const open: WsClient[] = [];
  try {
    await sessionsShown(page, 0, problems);
    assert.equal(await page.title(), 'SockJS dashboard');
    for (let i = 0; i < 5; i++) open.push(await s.connect(i < 3 ? 'chat' : 'echo'));
    open[0]!.send('["join:lobby"]');
    open[1]!.send('["join:lobby"]');
    await sessionsShown(page, 5, problems);
    await page.waitForFunction(() => document.querySelector('#t-rooms tbody td')?.textContent === 'lobby', undefined, { timeout: 15_000 });
    assert.equal(await page.textContent('#t-rooms tbody tr td:nth-child(3)'), '2');
    assert.match((await page.textContent('#l-sessions'))!, /websocket\s*5/);
    assert.ok((await page.locator('#c-sessions svg path').count()) >= 1, 'the sessions chart has a line');
    // One service at a time.
    await page.selectOption('#service', { label: 'echo' });
    await sessionsShown(page, 2, problems);
    await page.selectOption('#service', { label: 'All services' });
    for (const ws of open.splice(0, 3)) ws.close();
    await sessionsShown(page, 2, problems);
    await page.waitForFunction(() => /closed: client\s*3/.test(document.getElementById('l-churn')?.textContent ?? ''), undefined, { timeout: 15_000 });
    assert.match((await page.textContent('#status'))!, /^live/);
    assert.equal(await page.locator('#t-slowest button').count(), 0, 'no Close buttons without actions');
    assert.deepEqual(problems, []);
  } finally {
    for (const ws of open) ws.close();
    await page.context().close();
    await s.close();
  }
});

test('dashboard page: with actions, Close on a slow consumer closes its session', { timeout: 60_000 }, async () => {
  const s = await startDashboardServer({ actions: true });
  const { page, problems } = await openPage(browser, s.url);
  const { conn, ws: stalled } = await stalledConsumer(s);
  try {
    const button = page.locator('#t-slowest button');
    await button.waitFor({ timeout: 15_000 });
    assert.equal(await page.getAttribute('#t-slowest code', 'title'), conn.id);
    await button.click();
    await waitUntil(() => s.echo.connections.size === 0, 'the session closed from the page', 10_000);
    await sessionsShown(page, 0, problems);
    assert.deepEqual(problems, []);
  } finally {
    stalled.terminate();
    await page.context().close();
    await s.close();
  }
});
