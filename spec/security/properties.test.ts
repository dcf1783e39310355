/** Property-based: any string survives quoting, payload decoding, and every transport's framing. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { arrayFrame, closeFrame, quote } from '../../lib/protocol/frames.js';
import { decodeMessages } from '../../lib/protocol/payload.js';
import type { Connection } from '../../lib/index.js';
import { GET, POST, Stream, WsClient, sessionUrl } from '../support/client.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

// Full unicode, lone surrogates and the ranges SockJS escapes, mixed with plain text.
const nasty = fc.oneof(
  fc.string({ unit: 'binary' }),
  fc.string({ unit: fc.oneof(fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), fc.constantFrom('\u2028', '\u200c', '\ufff0', '\uffff', '\ud800', '\udfff', '"', '\\', '%', '<', '\u0000')) }),
);
const ESCAPED_RANGES = /[\u200c-\u200f\u2028-\u202f\u2060-\u206f\ufff0-\uffff]/;

test('property: quote() is valid JSON that parses back to the same string, with no escaped range left raw', () => {
  fc.assert(
    fc.property(nasty, (s) => {
      const q = quote(s);
      assert.equal(JSON.parse(q), s);
      assert.doesNotMatch(q, ESCAPED_RANGES);
    }),
    { numRuns: 2000 },
  );
});

test('property: quote() gives exactly the reference quoting on its fast paths (long plain text, a message just decoded)', () => {
  const all = new RegExp(ESCAPED_RANGES.source, 'g');
  const reference = (s: string): string => JSON.stringify(s).replace(all, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
  fc.assert(
    fc.property(nasty, fc.integer({ min: 0, max: 600 }), fc.boolean(), (s, pad, decodedFirst) => {
      // Long enough for the plain-text check, and mostly plain text around the nasty part.
      const text = 'x'.repeat(pad) + s + 'y'.repeat(pad >> 1);
      if (decodedFirst) assert.deepEqual(decodeMessages(JSON.stringify([text])), [text]);
      assert.equal(quote(text), reference(text));
      assert.equal(quote(s), reference(s));
    }),
    { numRuns: 3000 },
  );
});

test('property: decodeMessages(JSON of any array of strings) returns the array; frames round-trip', () => {
  fc.assert(
    fc.property(fc.array(nasty, { maxLength: 8 }), fc.integer({ min: 1000, max: 4999 }), nasty, (msgs, code, reason) => {
      assert.deepEqual(decodeMessages(JSON.stringify(msgs)), msgs);
      if (msgs.length > 0) assert.deepEqual(JSON.parse(arrayFrame(msgs.map(quote)).slice(1)), msgs);
      assert.deepEqual(JSON.parse(closeFrame(code, reason).slice(1)), [code, reason]);
    }),
    { numRuns: 1000 },
  );
});

let srv: TestServer;
let last: Connection;
before(async () => {
  srv = await startTestServer();
  for (const name of ['echo', 'disabled_websocket_echo']) srv.services[name]!.on('connection', (c) => (last = c));
});
after(async () => {
  srv.server.closeAllConnections();
  await Promise.race([srv.close(), new Promise((r) => setTimeout(r, 500))]);
});

/** Opens a session on a transport; returns a reader of the messages of the next frame. */
async function transportReader(kind: string): Promise<{ next(): Promise<string[]>; close(): void }> {
  // Streams on a service with the default response_limit (echo's 4096 would end them mid-test).
  const base = sessionUrl(srv.url + '/disabled_websocket_echo');
  if (kind === 'websocket') {
    const ws = new WsClient(sessionUrl(srv.url.replace('http', 'ws') + '/echo') + '/websocket');
    assert.equal(await ws.next(), 'o');
    return { next: async () => JSON.parse((await ws.next())!.slice(1)) as string[], close: () => ws.close() };
  }
  if (kind === 'xhr' || kind === 'jsonp') {
    const poll = async (): Promise<string> =>
      kind === 'xhr' ? (await POST(base + '/xhr')).body.slice(0, -1) : JSON.parse((await GET(base + '/jsonp?c=cb')).body.slice(7, -4)) as string;
    assert.equal(await poll(), 'o');
    return { next: async () => JSON.parse((await poll()).slice(1)) as string[], close: () => {} };
  }
  const spec: Record<string, [string, string, RegExp, (f: string) => string]> = {
    eventsource: ['GET', '/eventsource', /\r\n\r\n/, (f) => decodeURI(f.replace(/^data: /, ''))],
    htmlfile: ['GET', '/htmlfile?c=cb', /\r\n/, (f) => JSON.parse(/^<script>\np\((.*)\);\n<\/script>$/s.exec(f)![1]!) as string],
  };
  const [method, path, sep, unwrap] = spec[kind]!;
  const st = new Stream(method, base + path);
  let buf = '';
  const queue: string[] = [];
  const nextFrame = async (): Promise<string> => {
    while (queue.length === 0) {
      const chunk = await st.read(5000);
      if (chunk === null) throw new Error('stream ended');
      buf += chunk;
      const parts = buf.split(sep);
      buf = parts.pop()!;
      for (const part of parts) {
        const p = part.replace(/^(\r\n)+/, '');
        if (p.startsWith(kind === 'htmlfile' ? '<script>' : 'data: ')) queue.push(unwrap(p));
      }
    }
    return queue.shift()!;
  };
  assert.equal(await nextFrame(), 'o');
  return { next: async () => JSON.parse((await nextFrame()).slice(1)) as string[], close: () => st.close() };
}

for (const kind of ['websocket', 'xhr', 'eventsource', 'htmlfile', 'jsonp']) {
  test(`property: any batch of strings written by the server arrives exactly over ${kind}`, async () => {
    const reader = await transportReader(kind);
    const conn = last;
    await fc.assert(
      fc.asyncProperty(fc.array(nasty, { minLength: 1, maxLength: 5 }), async (batch) => {
        for (const m of batch) conn.write(m);
        // A burst may take two frames on a websocket (its first message can go out at once).
        const got: string[] = [];
        while (got.length < batch.length) got.push(...(await reader.next()));
        assert.deepEqual(got, batch);
      }),
      { numRuns: 40 },
    );
    reader.close();
  });
}

test('property: a websocket echo of any short message, quotes and backslashes included (an application\'s JSON), arrives exactly', async () => {
  const ws = new WsClient(sessionUrl(srv.url.replace('http', 'ws') + '/echo') + '/websocket');
  assert.equal(await ws.next(), 'o');
  const quotes = fc.array(fc.constantFrom('"', '\\', '\\"', '{"id":1}', 'x', '\u00e9'), { maxLength: 20 }).map((a) => a.join(''));
  await fc.assert(
    fc.asyncProperty(fc.oneof(quotes, nasty), async (text) => {
      // Under 256 bytes: the payload decoder's short path.
      ws.ws.send(JSON.stringify([text]));
      const frame = (await ws.next())!;
      assert.deepEqual(JSON.parse(frame.slice(1)), [text]);
    }),
    { numRuns: 150 },
  );
  ws.close();
});

test('property: a websocket echo of any long message (sent as the bytes of its payload) arrives exactly, unsafe characters escaped', async () => {
  const ws = new WsClient(sessionUrl(srv.url.replace('http', 'ws') + '/echo') + '/websocket');
  assert.equal(await ws.next(), 'o');
  await fc.assert(
    fc.asyncProperty(nasty, fc.integer({ min: 4090, max: 6000 }), fc.boolean(), async (s, size, ascii) => {
      // Long enough for the echo path; plain ASCII around the nasty part, or around U+00E9.
      const fill = ascii ? 'x' : '\u00e9';
      const text = fill.repeat(Math.max(0, size - s.length)) + s;
      ws.ws.send(JSON.stringify([text]));
      const frame = (await ws.next())!;
      assert.deepEqual(JSON.parse(frame.slice(1)), [text]);
      assert.doesNotMatch(frame, ESCAPED_RANGES);
    }),
    { numRuns: 150 },
  );
  ws.close();
});
