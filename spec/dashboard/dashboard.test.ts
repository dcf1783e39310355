/** The dashboard's JSON endpoint, its page and assets, its actions (off unless enabled) and its cost when unused. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import express from 'express';
import sockjs, { type SockJSRouter } from '../../lib/index.js';
import { dashboard, type DashboardSnapshot } from '../../lib/dashboard.js';
import { Sampler } from '../../lib/dashboard/snapshot.js';
import { GET, POST } from '../support/client.js';
import { waitUntil } from '../protocol/helpers.js';
import { stalledConsumer, startDashboardServer, type DashboardServer } from './fixture.js';

async function snapshot(s: DashboardServer, since = 0): Promise<DashboardSnapshot> {
  const r = await GET(s.url + 'api/snapshot' + (since > 0 ? '?since=' + since : ''));
  assert.equal(r.status, 200);
  assert.match(String(r.headers['content-type']), /^application\/json/);
  assert.equal(r.headers['cache-control'], 'no-store');
  return JSON.parse(r.body) as DashboardSnapshot;
}

test('dashboard: the snapshot has sessions per service and transport, rooms and their sizes, and this process', async () => {
  const s = await startDashboardServer();
  try {
    const a = await s.connect('chat');
    const b = await s.connect('chat');
    const c = await s.connect('echo');
    a.send('["join:lobby"]');
    b.send('["join:lobby","join:ops"]');
    await waitUntil(() => s.chat.to('lobby').connections.size === 2 && s.chat.to('ops').connections.size === 1, 'room joins');
    const snap = await snapshot(s);
    assert.deepEqual(snap.services, ['chat', 'echo']);
    assert.equal(snap.actions, false);
    assert.equal(snap.transports[0], 'websocket');
    const last = snap.samples.at(-1)!;
    assert.equal(last.gap, true, 'the first sample follows a time with no page open');
    assert.deepEqual(last.services.map((x) => x.sessions), [[2, 0, 0, 0, 0, 0, 0], [1, 0, 0, 0, 0, 0, 0]]);
    assert.equal(last.services[0]!.in_ps, null, 'no rate right after a hole');
    assert.deepEqual(snap.rooms, { total: 2, top: [{ service: 0, name: 'lobby', size: 2 }, { service: 0, name: 'ops', size: 1 }] });
    assert.equal(snap.processes.length, 1);
    assert.equal(snap.processes[0]!.pid, process.pid);
    assert.equal(snap.processes[0]!.sessions, 3);
    assert.deepEqual(snap.slowest, []);
    // Asking again within the second: no new sample, and `since` leaves out what the page has.
    const again = await snapshot(s, last.t);
    assert.deepEqual(again.samples, []);
    for (const ws of [a, b, c]) ws.close();
    await waitUntil(() => s.chat.connections.size === 0 && s.echo.connections.size === 0, 'sessions closed');
    const after = await snapshot(s);
    assert.deepEqual(after.rooms, { total: 0, top: [] });
    assert.equal(after.processes[0]!.sessions, 0);
  } finally {
    await s.close();
  }
});

test('dashboard: samples carry message rates, sessions opened and closed by cause, and a hole when nobody looked', async () => {
  const s = await startDashboardServer();
  try {
    const sampler = new Sampler([{ name: 'chat', router: s.chat }, { name: 'echo', router: s.echo }], 60, 10, false);
    const t = Date.now();
    sampler.snapshot(0, t);
    const echo = await s.connect('echo');
    const chat = await s.connect('chat');
    echo.send('["m0","m1","m2","m3"]');
    await waitUntil(() => s.echo.stats.dump().messages_out_total === 4, 'four echoes');
    chat.close();
    await waitUntil(() => s.chat.connections.size === 0, 'the chat session closed');
    const snap = sampler.snapshot(t, t + 2000);
    assert.equal(snap.samples.length, 1);
    const [chatS, echoS] = snap.samples[0]!.services;
    assert.equal(snap.samples[0]!.gap, false);
    assert.equal(echoS!.in_ps, 2, '4 messages in 2 s');
    assert.equal(echoS!.out_ps, 2);
    assert.ok(echoS!.bytes_in_ps! > 0 && echoS!.bytes_out_ps! > 0);
    assert.equal(echoS!.opened, 1);
    assert.equal(chatS!.opened, 1);
    assert.deepEqual(chatS!.closed, [1, 0, 0, 0, 0, 0], 'closed by the client');
    assert.deepEqual(snap.causes, ['client', 'server', 'timeout', 'interrupted', 'limit', 'shutdown']);
    // Ten seconds without a request: the next sample starts after a hole, and old ones age out.
    const late = sampler.snapshot(0, t + 12_000);
    assert.equal(late.samples.at(-1)!.gap, true);
    assert.equal(late.samples.at(-1)!.services[1]!.in_ps, null);
    const later = sampler.snapshot(0, t + 70_000);
    assert.deepEqual(later.samples.map((x) => x.t), [t + 12_000, t + 70_000], 'a 60 s history keeps the last 60 s');
    echo.close();
  } finally {
    await s.close();
  }
});

test('dashboard: the slowest consumers are the connections with the most bytes waiting', async () => {
  const s = await startDashboardServer();
  try {
    const fine = await s.connect('echo');
    const { conn, ws } = await stalledConsumer(s);
    const snap = await snapshot(s);
    assert.equal(snap.slowest.length, 1, 'connections with nothing buffered are not listed');
    assert.equal(snap.slowest[0]!.id, conn.id);
    assert.equal(snap.slowest[0]!.service, 1);
    assert.equal(snap.slowest[0]!.transport, 'websocket-raw');
    assert.ok(snap.slowest[0]!.buffered > 0);
    assert.ok(snap.samples.at(-1)!.services[1]!.buffered >= snap.slowest[0]!.buffered);
    ws.terminate();
    fine.close();
  } finally {
    await s.close();
  }
});

test('dashboard: the page, its script and style, with a strict CSP; the mount path without a slash redirects', async () => {
  const s = await startDashboardServer({ title: 'Chat <prod>' });
  try {
    const page = await GET(s.url);
    assert.equal(page.status, 200);
    assert.match(String(page.headers['content-type']), /^text\/html/);
    assert.match(String(page.headers['content-security-policy']), /script-src 'self'/);
    assert.match(page.body, /<title>Chat &#60;prod&#62; dashboard<\/title>/);
    assert.match(page.body, /<script src="dashboard.js" defer><\/script>/);
    const js = await GET(s.url + 'dashboard.js');
    assert.match(String(js.headers['content-type']), /^application\/javascript/);
    assert.doesNotThrow(() => new Function(js.body), 'the script parses');
    assert.match(String((await GET(s.url + 'dashboard.css')).headers['content-type']), /^text\/css/);
    const bare = await GET(s.root + '/admin/sockjs?x=1');
    assert.equal(bare.status, 301);
    assert.equal(bare.headers.location, '/admin/sockjs/?x=1');
    assert.equal((await GET(s.url + 'nothing-here')).status, 404);
  } finally {
    await s.close();
  }
});

test('dashboard: closing a session is refused unless actions are enabled', async () => {
  const s = await startDashboardServer();
  try {
    const ws = await s.connect('echo');
    const [conn] = s.echo.connections;
    const r = await POST(s.url + `api/sessions/${conn!.id}/close`, { headers: { 'X-SockJS-Dashboard': '1' } });
    assert.equal(r.status, 403);
    assert.match(JSON.parse(r.body).error, /actions are disabled/);
    assert.equal(s.echo.connections.size, 1);
    ws.send('["still here"]');
    assert.equal(await ws.next(), 'a["still here"]');
    ws.close();
  } finally {
    await s.close();
  }
});

test('dashboard: with actions, a same-origin POST with the header closes the session; others are refused', async () => {
  const s = await startDashboardServer({ actions: true });
  try {
    const ws = await s.connect('chat');
    const [conn] = s.chat.connections;
    const url = s.url + `api/sessions/${conn!.id}/close`;
    const host = s.root.slice('http://'.length);
    const refused: [Record<string, string>, RegExp][] = [
      [{}, /header is missing/],
      [{ 'X-SockJS-Dashboard': '1', Origin: 'http://evil.example' }, /cross-origin/],
      [{ 'X-SockJS-Dashboard': '1', 'Sec-Fetch-Site': 'cross-site' }, /cross-site/],
      [{ 'X-SockJS-Dashboard': '1', Origin: 'not a url' }, /bad Origin/],
    ];
    for (const [headers, why] of refused) {
      const r = await POST(url, { headers });
      assert.equal(r.status, 403, JSON.stringify(headers));
      assert.match(JSON.parse(r.body).error, why);
    }
    assert.equal(s.chat.connections.size, 1);
    assert.equal((await POST(s.url + 'api/sessions/nope/close', { headers: { 'X-SockJS-Dashboard': '1' } })).status, 404);
    const ok = await POST(url, { headers: { 'X-SockJS-Dashboard': '1', Origin: 'http://' + host, 'Sec-Fetch-Site': 'same-origin' } });
    assert.equal(ok.status, 200);
    assert.deepEqual(JSON.parse(ok.body), { closed: conn!.id });
    assert.equal(await ws.next(), 'c[4000,"Closed from the dashboard"]');
    assert.equal(s.chat.connections.size, 0);
    const snap = await snapshot(s);
    assert.equal(snap.actions, true);
  } finally {
    await s.close();
  }
});

function timers(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
}

test('dashboard: costs nothing while no page is open: no timer, before or after a snapshot', async () => {
  const router = sockjs();
  const before = timers();
  const app = express();
  app.use('/d', dashboard(router));
  const sampler = new Sampler([{ name: null, router }], 300, 10, false);
  sampler.snapshot(0);
  sampler.snapshot(0, Date.now() + 1000);
  assert.equal(timers(), before);
});

test('dashboard: services are named by the record key, or by the mount path of their connections', async () => {
  const s = await startDashboardServer();
  try {
    const single = new Sampler([{ name: null, router: s.echo }, { name: null, router: sockjs() }], 60, 10, false);
    const ws = await s.connect('echo');
    assert.deepEqual(single.snapshot(0).services, ['/echo', '#2']);
    ws.close();
  } finally {
    await s.close();
  }
});

test('dashboard: bad arguments are TypeErrors that say what is expected', () => {
  const r: SockJSRouter = sockjs();
  assert.throws(() => dashboard(null as unknown as SockJSRouter), /takes a sockjs\(\) router, an array of them, or a record/);
  assert.throws(() => dashboard([]), TypeError);
  assert.throws(() => dashboard({ a: {} as SockJSRouter }), TypeError);
  assert.throws(() => dashboard(r, { history: 5 }), /"history" must be an integer from 10 to 3600/);
  assert.throws(() => dashboard(r, { top: 0 }), /"top"/);
  assert.throws(() => dashboard(r, { actions: 'yes' as unknown as boolean }), /"actions" must be a boolean/);
  assert.throws(() => dashboard(r, { title: 1 as unknown as string }), /"title"/);
  assert.equal(typeof dashboard([r, sockjs()]), 'function');
});

test('dashboard: import { dashboard } from "sockjs-express/dashboard" works from ESM and CommonJS', () => {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  const esm = execFileSync(process.execPath, ['--input-type=module', '-e', "import { dashboard } from 'sockjs-express/dashboard'; import sockjs from 'sockjs-express'; console.log(typeof dashboard(sockjs()))"], { cwd: root, encoding: 'utf8' });
  assert.equal(esm.trim(), 'function');
  const cjs = execFileSync(process.execPath, ['--input-type=commonjs', '-e', "const { dashboard } = require('sockjs-express/dashboard'); console.log(typeof dashboard(require('sockjs-express')()))"], { cwd: root, encoding: 'utf8' });
  assert.equal(cjs.trim(), 'function');
});
