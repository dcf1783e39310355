/**
 * Recovery with the companion client in Node (sockjs-client from npm), for every transport it
 * has there, through a proxy that cuts connections at random moments while both sides write 100
 * messages a second: each side gets every message once, in order, and the server's connection
 * resumes each time. RECOVERY_CHAOS_MS sets how long the chaos lasts per transport (default 4 s).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { connect, type RecoveringSocket, type SockJSConstructor } from '../../lib/client/index.js';
import { sequence, startRecoveryApp, type RecoveryApp } from './app.js';
import { waitUntil } from '../support/wait.js';

const SockJS = createRequire(import.meta.url)('sockjs-client') as SockJSConstructor;
const CHAOS_MS = Number(process.env.RECOVERY_CHAOS_MS ?? 4000);
const TRANSPORTS = ['websocket', 'xhr-streaming', 'xhr-polling', 'eventsource'];

interface Side {
  sock: RecoveringSocket;
  got: string[];
  events: string[];
}

function client(url: string, transport: string): Side {
  const sock = connect(url, { SockJS, transports: [transport], reconnect: { initialDelay: 50, maxDelay: 300 }, stallTimeout: 2000 });
  const side: Side = { sock, got: [], events: [] };
  sock.on('message', (m) => side.got.push(m));
  for (const e of ['open', 'reconnected', 'recovered', 'lost', 'close'] as const) sock.on(e, () => side.events.push(e));
  return side;
}

describe('recovery: companion client in Node', () => {
  let app: RecoveryApp;
  before(async () => {
    // A small response_limit makes streaming responses end (and come back) often.
    app = await startRecoveryApp({ recovery: { window_ms: 30_000 }, response_limit: 4096, disconnect_delay: 1000 });
  });
  after(async () => {
    await app.close();
  });

  for (const transport of TRANSPORTS) {
    test(`${transport}: random cuts while both sides send 100 msg/s: everything once, in order, resumed each time`, async () => {
      const first = app.peers.length;
      const side = client(app.url, transport);
      await waitUntil(() => side.events.includes('open'), 'open', 10_000);
      let sent = 0;
      const writer = setInterval(() => side.sock.send('C' + sent++), 10);
      app.proxy.startChaos(150, 600);
      await new Promise((r) => setTimeout(r, CHAOS_MS));
      app.proxy.stopChaos();
      clearInterval(writer);
      // A connection whose welcome was cut before the client read it has no client (the client
      // retries as new): it got nothing, and ends when its window does. The client's is the last.
      const mine = app.peers.slice(first);
      const peer = mine.at(-1)!;
      for (const orphan of mine.slice(0, -1)) assert.equal(orphan.got.length, 0, 'an orphan connection got nothing');
      peer.conn.removeAllListeners('close');
      // Both sides stop writing, then everything written must arrive.
      await waitUntil(() => side.sock.state === 'open', 'reopen', 10_000);
      app.stopWriting();
      const total = peer.sent;
      await waitUntil(() => side.got.length >= total && peer.got.length >= sent,
        () => `client has ${side.got.length}/${total}, server has ${peer.got.length}/${sent}`, 20_000);
      assert.deepEqual(side.got, sequence('S', total));
      assert.deepEqual(peer.got, sequence('C', sent));
      assert.ok(!side.events.includes('lost'), 'never lost: ' + side.events.join(','));
      const recovered = side.events.filter((e) => e === 'recovered').length;
      // A resume whose welcome was cut is resumed again: the server counts both, the client one.
      assert.ok(peer.resumes >= recovered, `resume fired ${peer.resumes} times for ${recovered} recoveries`);
      assert.ok(recovered >= 1, `recovered at least once (${app.proxy.cuts} cuts)`);
      console.log(`${transport}: ${app.proxy.cuts} cuts, ${recovered} resumes, ${total} + ${sent} messages, ${mine.length - 1} orphan(s)`);
      side.sock.close();
    });
  }
});
