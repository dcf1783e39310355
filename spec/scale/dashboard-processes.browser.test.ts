/** The dashboard page in headless Chromium with two processes joined by Redis: its Processes table has a row per process that follows the other process, cluster totals, and a stale row once that process dies. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../e2e/browser.js';
import { openPage } from '../dashboard/fixture.js';
import type { WsClient } from '../support/client.js';
import { startRedisServer, type RedisServer } from '../support/redis.js';
import { allListening, startLocal, startPeer } from './dashboard-processes.js';

let browser: Browser;
let redis: RedisServer;
before(async () => {
  [browser, redis] = await Promise.all([launchChromium(), startRedisServer()]);
});
after(async () => {
  await Promise.all([browser.close(), redis.stop()]);
});

/** The Processes table's body rows and footer as text, cell by cell. */
function table(page: Page): Promise<{ rows: { cls: string; cells: string[] }[]; foot: string[] }> {
  // No named functions inside: tsx would wrap them in a helper the page does not have.
  return page.evaluate(() => {
    const t = document.getElementById('t-processes') as HTMLTableElement;
    return {
      rows: Array.from(t.tBodies[0]!.rows, (tr) => ({ cls: tr.className, cells: Array.from(tr.cells, (td) => td.textContent ?? '') })),
      foot: Array.from(t.tFoot!.rows[0]!.cells, (td) => td.textContent ?? ''),
    };
  });
}

/** Waits until the table satisfies `cond` (the page polls once a second). */
async function shows(page: Page, what: string, problems: string[], cond: (t: Awaited<ReturnType<typeof table>>) => boolean, ms = 15_000): Promise<Awaited<ReturnType<typeof table>>> {
  const until = Date.now() + ms;
  for (;;) {
    const t = await table(page);
    if (cond(t)) return t;
    if (Date.now() > until) throw new Error(`the Processes table never showed ${what}: ${JSON.stringify(t)}\n${problems.join('\n')}`);
    await page.waitForTimeout(100);
  }
}

// Columns: process, uptime, CPU, RSS, heap, sessions, by transport, in/s, out/s, buffered, rooms, answered.
const SESSIONS = 5;
const BY_TRANSPORT = 6;

test('dashboard page over Redis: a row per process, following the other process, cluster totals, and a stale row when it dies', { timeout: 90_000 }, async () => {
  const local = await startLocal(redis);
  const peer = await startPeer(redis);
  const { page, problems } = await openPage(browser, local.url);
  const open: WsClient[] = [];
  try {
    await allListening(redis);
    const other = `${hostname()}:${peer.child.pid}`;
    const peerRow = (t: Awaited<ReturnType<typeof table>>) => t.rows.find((r) => r.cells[0] === other);
    let t = await shows(page, 'both processes', problems, (x) => x.rows.length === 2 && peerRow(x) !== undefined);
    assert.equal(t.rows[0]!.cells[0], `${hostname()}:${process.pid} (this one)`);
    assert.equal(t.foot[0], 'cluster: 2 processes');
    for (let i = 0; i < 3; i++) open.push(await peer.connect('chat'));
    open.push(await local.connect('echo'));
    t = await shows(page, 'three sessions on the other process', problems, (x) => peerRow(x)?.cells[SESSIONS] === '3');
    assert.equal(peerRow(t)!.cells[BY_TRANSPORT], 'websocket 3');
    await shows(page, 'four sessions in the cluster', problems, (x) => x.foot[SESSIONS] === '4');
    // One service at a time: echo has one session here and none there.
    await page.selectOption('#service', { label: 'echo' });
    t = await shows(page, 'the echo service only', problems, (x) => x.foot[SESSIONS] === '1');
    assert.deepEqual(t.rows.map((r) => r.cells[SESSIONS]), ['1', '0']);
    await page.selectOption('#service', { label: 'All services' });
    open.splice(0, 2).forEach((ws) => ws.close());
    await shows(page, 'two sessions in the cluster', problems, (x) => x.foot[SESSIONS] === '2' && peerRow(x)?.cells[SESSIONS] === '1');
    await peer.kill();
    t = await shows(page, 'the dead process as stale', problems, (x) => peerRow(x)?.cls === 'stale');
    assert.match(peerRow(t)!.cells.at(-1)!, /^stale/);
    assert.match((await page.textContent('#proc-note'))!, /1 process, 1 not answering/);
    assert.deepEqual(problems, []);
  } finally {
    for (const ws of open) ws.close();
    await peer.kill();
    await page.context().close();
    await local.close();
  }
});
