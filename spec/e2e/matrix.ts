/**
 * The transport matrix both browser test files run: every transport sockjs-client has, forced one
 * at a time, from a page on the SockJS server's own origin or from another origin.
 *
 * For each transport the browser can use in that origin mode: it opens and reports the forced
 * transport (and the server saw the matching one); tricky strings (every code point 0x00-0xFF,
 * astral characters, the ranges SockJS escapes, JSON- and frame-looking text) and two 100 KB
 * messages echo back unchanged, and the server received them unchanged; a burst of 200 numbered
 * messages arrives complete and in order; the client's close is clean; a server-initiated close
 * (the /close service) reaches the page as 3000 "Go away!"; the cookie_needed service echoes.
 *
 * Transports sockjs-client itself refuses in an origin mode are tested to be refused (the
 * client's rule is cited next to each), so no combination is silently dropped.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import type { Connection } from '../../lib/index.js';
import { startTestServer, type TestServer } from '../support/test-server.js';
import { SAME_ORIGIN_PAGES, TestPage, launchChromium, startOtherOrigin, type EchoResult, type OtherOrigin } from './browser.js';

export type OriginMode = 'same-origin' | 'cross-origin';

interface Works {
  readonly works: true;
  /** The transport name the server's connection reports (`conn.protocol`). */
  readonly server: string;
  /** On /cookie_needed_echo the browser must end up holding the JSESSIONID cookie. */
  readonly cookie: boolean;
}
interface Refused {
  readonly works: false;
  /** The sockjs-client rule that refuses it (node_modules/sockjs-client/lib/...). */
  readonly rule: string;
}
type Expectation = Works | Refused;

const XDR_RULE =
  'transport/sender/xdr.js: XDRObject.enabled = !!(global.XDomainRequest && ...) — XDomainRequest exists only in IE 8-10, never in Chromium';

/** Every transport in sockjs-client 1.6's transport-list.js, and what Chromium does with each. */
export const MATRIX: Readonly<Record<string, Readonly<Record<OriginMode, Expectation>>>> = {
  websocket: {
    // No JSESSIONID check: SockJS 0.3.3 sets it on HTTP transport responses, not on the upgrade.
    'same-origin': { works: true, server: 'websocket', cookie: false },
    'cross-origin': { works: true, server: 'websocket', cookie: false },
  },
  'xhr-streaming': {
    'same-origin': { works: true, server: 'xhr-streaming', cookie: true },
    'cross-origin': { works: true, server: 'xhr-streaming', cookie: true },
  },
  'xdr-streaming': {
    'same-origin': { works: false, rule: XDR_RULE },
    'cross-origin': { works: false, rule: XDR_RULE },
  },
  eventsource: {
    // EventSourceTransport.enabled() only asks for window.EventSource: cross-origin it is a CORS
    // EventSource. receiver/eventsource.js creates it without { withCredentials: true }, so a
    // cross-origin page's browser drops the response's Set-Cookie: no JSESSIONID check there.
    'same-origin': { works: true, server: 'eventsource', cookie: true },
    'cross-origin': { works: true, server: 'eventsource', cookie: false },
  },
  'iframe-eventsource': {
    'same-origin': { works: true, server: 'eventsource', cookie: true },
    'cross-origin': { works: true, server: 'eventsource', cookie: true },
  },
  htmlfile: {
    'same-origin': { works: true, server: 'htmlfile', cookie: true },
    'cross-origin': {
      works: false,
      rule: 'transport/htmlfile.js: HtmlFileTransport.enabled = HtmlfileReceiver.enabled && info.sameOrigin — cross-origin only iframe-htmlfile',
    },
  },
  'iframe-htmlfile': {
    'same-origin': { works: true, server: 'htmlfile', cookie: true },
    'cross-origin': { works: true, server: 'htmlfile', cookie: true },
  },
  'xhr-polling': {
    'same-origin': { works: true, server: 'xhr-polling', cookie: true },
    'cross-origin': { works: true, server: 'xhr-polling', cookie: true },
  },
  'xdr-polling': {
    'same-origin': { works: false, rule: XDR_RULE },
    'cross-origin': { works: false, rule: XDR_RULE },
  },
  'iframe-xhr-polling': {
    'same-origin': { works: true, server: 'xhr-polling', cookie: true },
    'cross-origin': { works: true, server: 'xhr-polling', cookie: true },
  },
  'jsonp-polling': {
    'same-origin': { works: true, server: 'jsonp-polling', cookie: true },
    'cross-origin': { works: true, server: 'jsonp-polling', cookie: true },
  },
};

// ---- the messages ----

const cp = (from: number, to: number): string => {
  let s = '';
  for (let c = from; c <= to; c++) s += String.fromCodePoint(c);
  return s;
};

const LATIN1 = cp(0x00, 0xff);
const ESCAPED_RANGES: ReadonlyArray<readonly [string, string]> = [
  ['U+200C-U+200F', cp(0x200c, 0x200f)],
  ['U+2028-U+202F', cp(0x2028, 0x202f)],
  ['U+2060-U+206F', cp(0x2060, 0x206f)],
  ['U+FFF0-U+FFFF', cp(0xfff0, 0xffff)],
  ['U+0600-U+0604', cp(0x0600, 0x0604)],
  ['U+17B4', '\u17b4'],
  ['U+FEFF', '\ufeff'],
];

type Labelled = ReadonlyArray<readonly [label: string, message: string]>;

/**
 * The tricky strings, in groups that are echoed one group at a time (a group is sent at once, so
 * polling transports batch it), so a failure names the group as well as the message.
 */
export const TRICKY: Readonly<Record<string, Labelled>> = {
  'code points 0x00-0xFF': [
    ['every code point 0x00-0xFF', LATIN1],
    ...Array.from({ length: 256 }, (_, i) => [`U+${i.toString(16).padStart(4, '0').toUpperCase()} alone`, String.fromCharCode(i)] as const),
  ],
  'astral characters and the ranges SockJS escapes': [
    ['U+1F600', '\u{1F600}'],
    ['astral mix', 'a\u{1F600}b\u{1D11E}\u{10000}\u{10FFFF}\u{1F4A9}'],
    ...ESCAPED_RANGES,
    ['all SockJS-escaped ranges at once', ESCAPED_RANGES.map(([, s]) => s).join('')],
  ],
  'JSON-, frame- and markup-looking text': [
    ['JSON array text', '["a","b"]'],
    ['JSON object text', '{"x":1}'],
    ['empty string', ''],
    ['a space', ' '],
    ['a quote', '"'],
    ['a backslash', '\\'],
    ['escape-looking text', '\\u0000\\n\\"'],
    ['frame-looking text', 'a["x"]'],
    ['close-frame-looking text', 'c[3000,"Go away!"]'],
    ['o', 'o'],
    ['h', 'h'],
    ['CRLF CRLF', '\r\n\r\n'],
    ['SSE-looking text', 'data: x\r\n\r\nevent: close\n\n'],
    ['script-breaking text', '</script><script>window.__e2e_pwned = 1</script>'],
    ['JS-breaking text', "');window.__e2e_pwned = 1;//\u2028\u2029"],
    ['HTML comment text', '<!-- -->'],
  ],
  // sockjs-client's EventSource receiver runs decodeURI() on every event, so the server must
  // percent-escape '%' in eventsource frames (sockjs-node: utils.escape_selected(payload, '\r\n\x00')).
  "text with '%'": [
    ['a lone percent', '%'],
    ['percent-escape-looking text', '%41'],
    ['percent text', '100% %25 %% %zz %E2%82%AC'],
  ],
};

/** `pattern` repeated (whole code points only) to exactly `length` UTF-16 code units. */
function fill(pattern: string, length: number): string {
  const chars = Array.from(pattern);
  let out = '';
  for (let i = 0; out.length < length; i++) {
    const ch = chars[i % chars.length];
    out += out.length + ch.length <= length ? ch : '.';
  }
  return out;
}

/** 100 KB of ASCII, numbered so a lost or repeated stretch shows where. */
export const BIG_ASCII = Array.from({ length: 12_800 }, (_, i) => i.toString(36).padStart(7, '.') + ';').join('');
/** 100 KB (in UTF-16 code units) of everything tricky above, repeated. */
export const BIG_MIXED = fill(LATIN1 + ESCAPED_RANGES.map(([, s]) => s).join('') + '\u{1F600}\u{1D11E}', 102_400);

export const BURST = Array.from({ length: 200 }, (_, i) => `burst-${String(i).padStart(3, '0')}`);

// ---- what the server saw ----

interface Seen {
  protocol: string;
  received: string[];
}

/** Records, per tagged connection, what the echo services received (tag: the first message). */
class ServerRecorder {
  private readonly byTag = new Map<string, Seen>();

  attach(srv: TestServer, services: string[]): void {
    for (const name of services) {
      srv.services[name].on('connection', (conn: Connection) => {
        let seen: Seen | null = null;
        conn.on('data', (m: string) => {
          if (seen === null) {
            seen = { protocol: conn.protocol, received: [] };
            this.byTag.set(m, seen);
          } else {
            seen.received.push(m);
          }
        });
      });
    }
  }

  get(tag: string): Seen | undefined {
    return this.byTag.get(tag);
  }
}

function firstDifference(sent: readonly string[], received: readonly string[]): string | null {
  for (let i = 0; i < Math.max(sent.length, received.length); i++) {
    if (sent[i] !== received[i]) {
      const a = sent[i];
      const b = received[i];
      const show = (s: string | undefined): string =>
        s === undefined ? '(nothing)' : JSON.stringify(s.length > 60 ? s.slice(0, 60) + '...' : s) + ` (${s.length} units)`;
      return `message #${i}: sent ${show(a)}, server received ${show(b)}`;
    }
  }
  return null;
}

function echoProblems(r: EchoResult, labels: readonly string[]): string | null {
  const problems: string[] = [];
  if (r.error) problems.push(r.error);
  if (r.received !== labels.length) problems.push(`received ${r.received} of ${labels.length} echoes${r.timedOut ? ' (timed out)' : ''}`);
  for (const m of r.mismatches) problems.push(`echo of "${labels[m.index]}" differs: ${JSON.stringify(m)}`);
  if (r.strays.length > 0) problems.push(`unexpected extra messages before this check: ${JSON.stringify(r.strays)}`);
  if (r.close) problems.push(`socket closed: ${JSON.stringify(r.close)}`);
  return problems.length === 0 ? null : problems.join('\n');
}

// ---- the matrix ----

export function runMatrix(mode: OriginMode): void {
  describe(`sockjs-client in Chromium, page ${mode === 'same-origin' ? 'on the SockJS server origin' : 'on another origin'}`, { concurrency: 3 }, () => {
    let browser: Browser;
    let srv: TestServer;
    let other: OtherOrigin | null = null;
    let pageUrl: string;
    const recorder = new ServerRecorder();

    before(async () => {
      browser = await launchChromium();
      srv = await startTestServer(0, '127.0.0.1', {}, SAME_ORIGIN_PAGES);
      recorder.attach(srv, ['echo', 'cookie_needed_echo']);
      if (mode === 'cross-origin') {
        other = await startOtherOrigin(srv.url);
        pageUrl = other.url + '/e2e.html';
      } else {
        pageUrl = srv.url + '/e2e.html';
      }
    });
    after(async () => {
      await browser?.close();
      await other?.close();
      await srv?.close();
    });

    const refused = Object.entries(MATRIX).filter(([, m]) => !m[mode].works);
    for (const [transport, m] of refused) {
      const rule = (m[mode] as Refused).rule;
      test(`${transport}: refused by sockjs-client in Chromium (${rule})`, async () => {
        const tp = await TestPage.open(browser, pageUrl);
        try {
          const o = await tp.openSocket(srv.url + '/echo', transport);
          assert.equal(o.opened, false, `${transport} opened, but the client rule says it cannot`);
          assert.deepEqual(o.close, { code: 2000, reason: 'All transports failed', wasClean: false }, tp.diagnostics());
        } finally {
          await tp.close();
        }
      });
    }

    for (const [transport, m] of Object.entries(MATRIX)) {
      const expect = m[mode];
      if (!expect.works) continue;
      // One transport's checks run in order on one page (they share its socket); transports run side by side.
      describe(`${transport} (${mode})`, { concurrency: 1 }, () => {
        let tp: TestPage;
        let key: string | null = null;
        const tag = `e2e:${mode}:${transport}`;

        before(async () => {
          tp = await TestPage.open(browser, pageUrl);
        });
        after(async () => {
          await tp?.close();
        });

        const need = (): string => {
          assert.ok(key, `no open ${transport} socket (the open test failed)`);
          return key;
        };

        test('opens, and both ends report the forced transport', async () => {
          const o = await tp.openSocket(srv.url + '/echo', transport);
          assert.ok(o.opened, `did not open: ${JSON.stringify(o)}\n${tp.diagnostics()}`);
          assert.equal(o.transport, transport);
          key = o.key;
          const r = await tp.echo(need(), [tag]);
          assert.equal(echoProblems(r, ['tag']), null, tp.diagnostics());
          assert.equal(recorder.get(tag)?.protocol, expect.server, 'transport the server saw');
        });

        test('tricky strings echo back unchanged, and reach the server unchanged', async () => {
          const problems: string[] = [];
          const sent: string[] = [];
          for (const [group, labelled] of Object.entries(TRICKY)) {
            const messages = labelled.map(([, m]) => m);
            sent.push(...messages);
            const r = await tp.echo(need(), messages);
            const p = echoProblems(r, labelled.map(([l]) => l));
            if (p !== null) problems.push(`[${group}]\n${p}`);
          }
          assert.equal(firstDifference(sent, recorder.get(tag)?.received ?? []), null, 'client -> server direction');
          assert.equal(problems.length === 0 ? null : problems.join('\n'), null, tp.diagnostics());
          // The markup- and JS-breaking strings must not have run as script in the page or a transport iframe.
          // (jsonp-polling's send iframes come and go: one removed meanwhile is skipped.)
          for (const frame of tp.page.frames()) {
            const pwned = await frame.evaluate(() => (window as { __e2e_pwned?: number }).__e2e_pwned).catch((err: unknown) => {
              if (frame.isDetached()) return undefined;
              throw err;
            });
            assert.equal(pwned, undefined, `script ran in ${frame.url()}`);
          }
        });

        test('100 KB messages (ASCII, then mixed) echo back unchanged', async () => {
          const before = recorder.get(tag)?.received.length ?? 0;
          for (const [label, big] of [['100 KB ASCII', BIG_ASCII], ['100 KB mixed', BIG_MIXED]] as const) {
            const r = await tp.echo(need(), [big], 12_000);
            assert.equal(echoProblems(r, [label]), null, tp.diagnostics());
          }
          const got = recorder.get(tag)?.received.slice(before) ?? [];
          assert.equal(firstDifference([BIG_ASCII, BIG_MIXED], got), null, 'client -> server direction');
        });

        test('a burst of 200 numbered messages arrives complete and in order', async () => {
          const r = await tp.echo(need(), BURST);
          assert.equal(echoProblems(r, BURST), null, tp.diagnostics());
        });

        test("the client's close is clean (1000)", async () => {
          const c = await tp.closeSocket(need());
          key = null;
          assert.deepEqual(c, { code: 1000, reason: 'Normal closure', wasClean: true });
        });

        test('a server-initiated close (/close) reaches the page as 3000 "Go away!"', async () => {
          const r = await tp.serverClose(srv.url + '/close', transport);
          assert.equal(r.opened, true, `did not open first: ${JSON.stringify(r)}\n${tp.diagnostics()}`);
          assert.equal(r.transport, transport);
          assert.deepEqual(r.close, { code: 3000, reason: 'Go away!', wasClean: true }, tp.diagnostics());
          assert.deepEqual(r.messages, []);
        });

        test('the cookie_needed service (/cookie_needed_echo) connects and echoes', async () => {
          const o = await tp.openSocket(srv.url + '/cookie_needed_echo', transport);
          assert.ok(o.opened && o.key, `did not open: ${JSON.stringify(o)}\n${tp.diagnostics()}`);
          assert.equal(o.transport, transport);
          const cookieTag = tag + ':cookie';
          // No '%' here: that is the eventsource escaping check's business (the tricky strings test).
          const messages = [cookieTag, 'hello', '\u0000\u001f"\\', '\u{1F600}\u2028\ufeff\uffff', '["a","b"]', ...BURST.slice(0, 20)];
          const r = await tp.echo(o.key, messages);
          assert.equal(echoProblems(r, messages.map((s, i) => `cookie_needed message #${i}`)), null, tp.diagnostics());
          assert.equal(recorder.get(cookieTag)?.protocol, expect.server, 'transport the server saw');
          const c = await tp.closeSocket(o.key);
          assert.equal(c?.code, 1000);
          if (expect.cookie) {
            const names = (await tp.context.cookies(srv.url)).map((k) => k.name);
            assert.ok(names.includes('JSESSIONID'), `no JSESSIONID cookie in the browser (has: ${names.join(', ') || 'none'})`);
          }
        });
      });
    }
  });
}
