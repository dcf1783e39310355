/**
 * Dead websocket peers: a proxy between a real `ws` client and the server goes silent both ways
 * while keeping both sockets open (a peer gone without FIN or RST). The server pings every
 * heartbeat_delay and ends the session when nothing at all comes back for heartbeat_timeout.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { Connection, SockJSRouter } from '../../lib/index.js';
import { WsClient, sessionUrl } from '../support/client.js';
import { TcpProxy, type ProxiedConnection } from '../support/proxy.js';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { stopServer } from '../protocol/helpers.js';

const DELAY = 200;
const TIMEOUT = 300;
// Timers on a loaded 2-core machine run late; the bound still tells a check from no check.
const SLACK = 1000;

let srv: TestServer;
let off: TestServer;
let proxy: TcpProxy;
let offProxy: TcpProxy;

before(async () => {
  srv = await startTestServer(0, '127.0.0.1', { heartbeat_delay: DELAY, heartbeat_timeout: TIMEOUT });
  off = await startTestServer(0, '127.0.0.1', { heartbeat_delay: DELAY, heartbeat_timeout: 0 });
  proxy = await TcpProxy.start(srv.port);
  offProxy = await TcpProxy.start(off.port);
});
after(async () => {
  await proxy.close();
  await offProxy.close();
  await stopServer(srv);
  await stopServer(off);
});

interface Opened {
  ws: WsClient;
  conn: Connection;
  link: ProxiedConnection;
}

/** Opens an echo websocket (framed, or raw at /websocket) through the proxy. */
async function open(p: TcpProxy, router: SockJSRouter, raw: boolean): Promise<Opened> {
  const base = 'ws://127.0.0.1:' + p.port + '/echo';
  const linked = p.nextConnection();
  const connected = new Promise<Connection>((resolve) => router.once('connection', resolve));
  const ws = new WsClient(raw ? base + '/websocket' : sessionUrl(base) + '/websocket');
  await ws.opened;
  if (!raw) assert.equal(await ws.next(), 'o');
  const conn = await connected;
  return { ws, conn, link: await linked };
}

for (const raw of [false, true]) {
  const kind = raw ? 'raw websocket' : 'framed websocket';

  test(`liveness (${kind}): a peer gone silent is closed within heartbeat_delay + heartbeat_timeout, socket destroyed, cause timeout`, async () => {
    const echo = srv.services.echo!;
    const { conn, link } = await open(proxy, echo, raw);
    const timeoutsBefore = echo.stats.dump().sessions_closed.timeout;
    const closed = once(conn, 'close') as Promise<[number, string]>;
    link.silence();
    const t0 = Date.now();
    const [code, reason] = await closed;
    const elapsed = Date.now() - t0;
    assert.ok(elapsed <= DELAY + TIMEOUT + SLACK, `closed after ${elapsed} ms`);
    assert.equal(code, 1006);
    assert.equal(reason, 'Heartbeat timed out');
    assert.equal(echo.stats.dump().sessions_closed.timeout, timeoutsBefore + 1);
    // Destroyed, not closed by handshake: the server's socket goes away without waiting for an
    // answer that never comes (the client, behind the silent proxy, still thinks it is open).
    await link.until(() => link.server.destroyed, 'the server side to close');
    assert.ok(link.dropped.toClient > 0, 'the server kept pinging into the silence');
    link.cut();
  });

  test(`liveness (${kind}): with heartbeat_timeout 0 a silent peer is never closed`, async () => {
    const echo = off.services.echo!;
    const { conn, link } = await open(offProxy, echo, raw);
    link.silence();
    // Pings (2 bytes each, plus 3-byte `h` frames when framed) keep going into the silence; wait
    // for several heartbeats' worth, well past delay + the default check.
    const beats = 6;
    await link.until(() => link.dropped.toClient >= beats * (raw ? 2 : 5), `${beats} heartbeats`, 10_000);
    assert.equal(conn.readyState, 1);
    conn.close();
    link.cut();
  });

  test(`liveness (${kind}): a live peer that only receives stays open for several heartbeats`, async () => {
    const echo = srv.services.echo!;
    const { ws, conn, link } = await open(proxy, echo, raw);
    let pings = 0;
    ws.ws.on('ping', () => pings++);
    let closedEarly = false;
    conn.once('close', () => (closedEarly = true));
    // The client never sends a message; only its library's automatic pongs go back.
    const beats = 5;
    await link.until(() => pings >= beats || closedEarly, `${beats} pings`, 10_000);
    assert.equal(closedEarly, false);
    assert.equal(conn.readyState, 1);
    assert.ok(link.forwarded.toServer > 0);
    ws.close();
    await ws.closed;
  });
}
