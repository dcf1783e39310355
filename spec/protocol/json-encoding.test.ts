/** Unicode through SockJS frames: what the server must escape, and what must survive a round trip. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { POST, WsClient, sessionUrl } from '../support/client.js';
import { serverForFile } from './helpers.js';

const srv = serverForFile();

/** Code points the server must send as \uXXXX escapes, never raw. */
const SERVER_ESCAPES: readonly [number, number][] = [
  [0x200c, 0x200f],
  [0x2028, 0x202f],
  [0x2060, 0x206f],
  [0xfff0, 0xffff],
];

function codePoints(ranges: readonly [number, number][]): number[] {
  const out: number[] = [];
  for (const [lo, hi] of ranges) for (let c = lo; c <= hi; c++) out.push(c);
  return out;
}

const escape = (c: number): string => '\\u' + c.toString(16).padStart(4, '0');

/** A JSON array holding one string of `units`, every one of them written as a \uXXXX escape. */
function escapedPayload(units: readonly number[]): string {
  return '["' + units.map(escape).join('') + '"]';
}

async function xhrRoundTrip(payload: string): Promise<string> {
  const url = sessionUrl(srv.url + '/echo');
  assert.equal((await POST(url + '/xhr')).body, 'o\n');
  const sent = await POST(url + '/xhr_send', { body: payload, timeoutMs: 15000 });
  assert.equal(sent.status, 204, sent.body);
  const r = await POST(url + '/xhr', { timeoutMs: 15000 });
  assert.equal(r.status, 200);
  assert.ok(r.body.startsWith('a[') && r.body.endsWith(']\n'), r.body.slice(0, 50));
  return r.body.slice(1, -1);
}

test('json encoding: U+200C–200F, U+2028–202F, U+2060–206F and U+FFF0–FFFF go out as \\uXXXX escapes (xhr)', async () => {
  const units = codePoints(SERVER_ESCAPES);
  const array = await xhrRoundTrip(escapedPayload(units));
  // Compared case-insensitively: \u200C and \u200c are the same JSON escape.
  assert.equal(array.toLowerCase(), escapedPayload(units));
});

test('json encoding: the same characters are escaped in websocket frames too', async () => {
  const units = codePoints(SERVER_ESCAPES);
  const ws = new WsClient(sessionUrl(srv.url.replace('http:', 'ws:') + '/echo') + '/websocket');
  assert.equal(await ws.next(), 'o');
  ws.send(escapedPayload(units));
  const frame = await ws.next();
  assert.equal(frame?.toLowerCase(), 'a' + escapedPayload(units));
  ws.close();
  await ws.closed;
});

test('json encoding: every UTF-16 code unit (0000–FFFF, browser-mangled ranges and lone surrogates included) sent escaped comes back intact', async () => {
  const units: number[] = [];
  for (let c = 0; c <= 0xffff; c++) units.push(c);
  const array = await xhrRoundTrip(escapedPayload(units));
  const back = JSON.parse(array) as string[];
  const sent = String.fromCharCode(...units.slice(0, 0x8000)) + String.fromCharCode(...units.slice(0x8000));
  assert.equal(back.length, 1);
  assert.equal(back[0]!.length, 0x10000);
  let diff = -1;
  for (let i = 0; i < sent.length && diff === -1; i++) if (back[0]!.charCodeAt(i) !== sent.charCodeAt(i)) diff = i;
  assert.equal(diff, -1, `the echoed string differs from the one sent at U+${diff.toString(16)}`);
});

test('json encoding: characters outside the BMP, raw or as surrogate-pair escapes, come back intact', async () => {
  const text = '\u{10000}\u{1F600}\u{10FFFF}';
  const payload = JSON.stringify([text, 'x']).replace(']', ',"\\ud83d\\ude00"]');
  const back = JSON.parse(await xhrRoundTrip(payload)) as string[];
  assert.deepEqual(back, [text, 'x', '\u{1F600}']);
});
