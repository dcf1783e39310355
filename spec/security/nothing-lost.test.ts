/**
 * Nothing lost: 10,000 numbered messages each way arrive exactly once and in order on every
 * transport, while the receiving request is re-opened again and again (a small response_limit
 * for streams; every poll is a new request). And a client that vanishes is reaped once.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Connection } from '../../lib/index.js';
import { GET, POST, Stream, WsClient, sessionUrl, sleep } from '../support/client.js';
import { startService, type TestService } from '../support/service.js';
import { waitUntil } from '../support/wait.js';

const N = 10_000;
let s: TestService;
let url: string;
const received = new Map<Connection, string[]>();
let last: Connection;

before(async () => {
  s = await startService({ response_limit: 2048 }, (router) =>
    router.on('connection', (c) => {
      last = c;
      const got: string[] = [];
      received.set(c, got);
      c.on('data', (m) => got.push(m));
    }),
  );
  url = s.url;
});
after(() => s.close());

const numbered = (prefix: string): string[] => Array.from({ length: N }, (_, i) => prefix + i);

/** Collects messages from a stream of frames: each frame is `unwrap`ped to its SockJS frame. */
function collectFrames(text: string, sep: string, unwrap: (f: string) => string, into: string[]): string {
  let rest = text;
  let at: number;
  while ((at = rest.indexOf(sep)) !== -1) {
    const f = unwrap(rest.slice(0, at).replace(/^(\r\n)+/, ''));
    rest = rest.slice(at + sep.length);
    if (f.startsWith('a')) into.push(...(JSON.parse(f.slice(1)) as string[]));
  }
  return rest;
}

const STREAMS: Record<string, [method: string, path: string, sep: string, unwrap: (f: string) => string]> = {
  'xhr-streaming': ['POST', '/xhr_streaming', '\n', (f) => f],
  eventsource: ['GET', '/eventsource', '\r\n\r\n', (f) => (f.startsWith('data: ') ? decodeURI(f.slice(6)) : '')],
  htmlfile: ['GET', '/htmlfile?c=cb', '\r\n', (f) => {
    const m = /^<script>\np\((.*)\);\n<\/script>$/s.exec(f);
    return m ? (JSON.parse(m[1]!) as string) : '';
  }],
};

/** Client→server in batches over xhr_send, checked on the server side. */
async function sendAll(base: string, conn: Connection): Promise<void> {
  const out = numbered('c');
  for (let i = 0; i < N; i += 500) {
    assert.equal((await POST(base + '/xhr_send', { body: JSON.stringify(out.slice(i, i + 500)) })).status, 204);
  }
  assert.deepEqual(received.get(conn), out);
}

for (const [kind, [method, path, sep, unwrap]] of Object.entries(STREAMS)) {
  test(`nothing lost over ${kind}: ${N} messages each way, the stream re-opened after every 2 KiB`, async () => {
    const base = sessionUrl(url);
    const got: string[] = [];
    let reopened = 0;
    let st = new Stream(method, base + path);
    let rest = '';
    const first = await st.readChars(1);
    rest = collectFrames(first, sep, unwrap, got);
    const conn = last;
    const want = numbered('s');
    // Written in bursts, as an application would, while the client keeps re-opening.
    const writer = (async () => {
      for (let i = 0; i < N; i += 250) {
        for (const m of want.slice(i, i + 250)) conn.write(m);
        await sleep(1); // pacing between bursts
      }
    })();
    while (got.length < N) {
      const chunk = await st.read(20000);
      if (chunk === null) {
        reopened++;
        st = new Stream(method, base + path);
        rest = '';
        continue;
      }
      rest = collectFrames(rest + chunk, sep, unwrap, got);
    }
    await writer;
    assert.deepEqual(got, want);
    assert.ok(reopened > 10, `re-opened ${reopened} times`);
    // Before closing the stream: an aborted receiving request ends the session (protocol rule).
    await sendAll(base, conn);
    st.close();
  });
}

for (const kind of ['xhr-polling', 'jsonp-polling']) {
  test(`nothing lost over ${kind}: ${N} messages each way, every poll a new request`, async () => {
    const base = sessionUrl(url);
    const poll = async (): Promise<string> =>
      kind === 'xhr-polling' ? (await POST(base + '/xhr')).body.slice(0, -1) : (JSON.parse((await GET(base + '/jsonp?c=cb')).body.slice(7, -4)) as string);
    assert.equal(await poll(), 'o');
    const conn = last;
    const want = numbered('s');
    const got: string[] = [];
    let polls = 0;
    for (let i = 0; i < N; i += 500) {
      for (const m of want.slice(i, i + 500)) conn.write(m);
      const f = await poll();
      polls++;
      got.push(...(JSON.parse(f.slice(1)) as string[]));
    }
    assert.deepEqual(got, want);
    assert.equal(polls, N / 500);
    await sendAll(base, conn);
  });
}

test(`nothing lost over websocket: ${N} messages each way`, async () => {
  const ws = new WsClient(sessionUrl(url.replace('http', 'ws')) + '/websocket');
  assert.equal(await ws.next(), 'o');
  const conn = last;
  const want = numbered('s');
  for (const m of want) conn.write(m);
  const got: string[] = [];
  while (got.length < N) got.push(...(JSON.parse((await ws.next())!.slice(1)) as string[]));
  assert.deepEqual(got, want);
  const out = numbered('c');
  for (let i = 0; i < N; i += 100) ws.send(JSON.stringify(out.slice(i, i + 100)));
  await waitUntil(() => received.get(conn)!.length >= N, 'every message on the server', 20_000);
  assert.deepEqual(received.get(conn), out);
  ws.close();
});

test('a client that disappears without closing is reaped after disconnect_delay; close fires exactly once', async () => {
  // Its own service: a short disconnect_delay on the main one lets a loaded machine's slow polls time out.
  const reaper = await startService({ disconnect_delay: 300 });
  const got = reaper.nextConnection();
  await POST(sessionUrl(reaper.url) + '/xhr');
  const conn = await got;
  // startService records every 'close', even one that comes before this line runs.
  await waitUntil(() => reaper.closes.length >= 1, "the session's 'close'");
  // Bounded check that nothing more happens: the session's linger timer (300 ms, set when it
  // closed) is due before this longer one, and Node runs due timers in order.
  await sleep(400);
  assert.deepEqual(reaper.closes, [[1006, 'Session timed out']]);
  assert.equal(conn.readyState, 3);
  assert.ok(!reaper.r.connections.has(conn));
  await reaper.close();
});
