/**
 * The `compression` option with a real browser: sockjs-client's websocket in headless Chromium
 * negotiates permessage-deflate, messages round-trip, and a long repetitive message crosses the
 * wire deflated (bytes counted by a proxy in front of the server).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { SAME_ORIGIN_PAGES, TestPage, launchChromium } from './browser.js';
import { TcpProxy } from '../support/proxy.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

let srv: TestServer;
let proxy: TcpProxy;
let browser: Browser;
const offers: string[] = [];

before(async () => {
  srv = await startTestServer(0, '127.0.0.1', { compression: true }, SAME_ORIGIN_PAGES);
  srv.server.on('upgrade', (req: { headers: Record<string, unknown> }) => offers.push(String(req.headers['sec-websocket-extensions'])));
  proxy = await TcpProxy.start(srv.port);
  browser = await launchChromium();
});
after(async () => {
  await browser.close();
  await proxy.close();
  await srv.close();
});

function bytesToClient(): number {
  let n = 0;
  for (const c of proxy.connections) n += c.forwarded.toClient;
  return n;
}

test('compression (Chromium): sockjs-client websocket negotiates permessage-deflate; messages round-trip, long ones deflated on the wire', async () => {
  const page = await TestPage.open(browser, proxy.url + '/e2e.html');
  try {
    const o = await page.openSocket(proxy.url + '/echo', 'websocket');
    assert.ok(o.opened && o.transport === 'websocket', page.diagnostics());
    assert.match(offers.at(-1)!, /permessage-deflate/, 'Chromium offered it');
    const small = await page.echo(o.key!, ['hi', 'é€😀', 'x'.repeat(100)]);
    assert.deepEqual([small.received, small.mismatches.length], [3, 0], page.diagnostics());
    const before = bytesToClient();
    const long = await page.echo(o.key!, ['abc'.repeat(50_000)]);
    assert.deepEqual([long.received, long.mismatches.length], [1, 0], page.diagnostics());
    const wire = bytesToClient() - before;
    assert.ok(wire < 5_000, `150 000 characters came back as ${wire} bytes`);
  } finally {
    await page.close();
  }
});
