/**
 * Makes docs/images/dashboard.png: a minute of made-up traffic (sessions over three transports
 * coming and going, rooms, messages, one client that stops reading), then the page in Chromium.
 *
 *   npm run build --silent && node --import tsx spec/dashboard/screenshot.ts
 *   (SECONDS=…, COLOR_SCHEME=dark and OUT=file.png change the run)
 */
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { launchChromium } from '../e2e/browser.js';
import { POST, Stream, sessionUrl, sleep, type WsClient } from '../support/client.js';
import { startDashboardServer } from './fixture.js';

const OUT = process.env.OUT ?? fileURLToPath(new URL('../../docs/images/dashboard.png', import.meta.url));
const SECONDS = Number(process.env.SECONDS ?? 70);

const s = await startDashboardServer({ history: 60, actions: true });
const open: WsClient[] = [];
const streams: Stream[] = [];
const rooms = ['lobby', 'support', 'game:42', 'game:7', 'ops'];

// A raw websocket that never reads: the server's writes to it pile up.
const stalled = new WebSocket(s.root.replace('http', 'ws') + '/echo/websocket');
await new Promise((resolve) => stalled.once('open', resolve));
stalled.pause();

const browser = await launchChromium();
const context = await browser.newContext({ viewport: { width: 1200, height: 1040 }, colorScheme: process.env.COLOR_SCHEME === 'dark' ? 'dark' : 'light' });
const page = await context.newPage();
await page.goto(s.url);

// Messages and broadcasts flow all along, five times a second (until the screenshot is taken).
let tick = 0;
const traffic = setInterval(() => {
  tick++;
  for (let i = 0; i < 6 + tick / 20; i++) open[(tick * 7 + i) % open.length]?.send('["hello"]');
  if (tick % 5 === 0) s.chat.to('lobby').send('news '.repeat(20));
  if (tick % 5 === 0) s.echo.broadcast('x'.repeat(2000));
  // The stalled client's share piles up to about 3 MB (under max_buffered_bytes, 4 MiB).
  for (const c of s.echo.connections) if (c.protocol === 'websocket-raw' && c.bufferedAmount < 2_500_000) c.write('y'.repeat(60_000));
}, 200);

for (let second = 0; second < SECONDS; second++) {
  const target = 20 + Math.round(15 * Math.sin(second / 9)) + second / 4;
  while (open.length < target) {
    const ws = await s.connect(open.length % 3 === 0 ? 'echo' : 'chat');
    ws.send(JSON.stringify(['join:' + rooms[Math.floor(Math.random() ** 2 * rooms.length)]]));
    open.push(ws);
  }
  while (open.length > target) open.splice(Math.floor(Math.random() * open.length), 1)[0]!.close();
  if (streams.length < 6 && second % 5 === 0) streams.push(new Stream('POST', sessionUrl(s.root + '/echo') + '/xhr_streaming'));
  if (second % 3 === 0) void POST(sessionUrl(s.root + '/chat') + '/xhr').catch(() => undefined);
  await sleep(1000);
}
await page.waitForFunction(() => document.querySelectorAll('#c-sessions path').length > 0);
await page.screenshot({ path: OUT });
clearInterval(traffic);
console.log('wrote', OUT);
await browser.close();
stalled.terminate();
for (const ws of open) ws.close();
for (const st of streams) st.close();
await s.close();
