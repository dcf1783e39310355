/**
 * The code in the documentation works. Every fenced block of README.md and docs/*.md is read:
 *
 *   ```ts / ```js                      type-checked (strict), each block as a module of its own,
 *                                      with `sockjs-express` (and its subpaths, such as
 *                                      `sockjs-express/compat`) resolving to this repository's lib/
 *   ```js file=server.mjs              also written, under that name, into the page's run folder
 *   ```js file=server.mjs run=<name>   started with node (TypeScript through tsx) and driven by the
 *                                      scenario <name> below, over real sockets, then stopped
 *   ```ts signature=<Type>             members as an interface body (`attach(server: UpgradeableServer): this;`),
 *                                      checked against the real <Type> exported by the library (or,
 *                                      for `signature=module`, the module itself): the documented
 *                                      signatures must accept what the library really has
 *   ```sh, ```nginx, ```haproxy, ...   not code to check (KNOWN_OTHER lists the languages)
 *
 * A run block's `listen(3000)` (or any port) is turned into port 0 by a preloaded module, which
 * reports the port the server got, so samples keep their natural port numbers.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, dirname, extname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import vm from 'node:vm';
import ts from 'typescript';
import { GET, POST, WsClient, sessionUrl } from '../support/client.js';
import { waitUntil } from '../support/wait.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const require = createRequire(import.meta.url);

/** Fence languages that hold no TypeScript or JavaScript to check. */
const KNOWN_OTHER = new Set(['sh', 'bash', 'console', 'nginx', 'haproxy', 'html', 'json', 'text', 'http', 'ini', 'yaml', 'diff']);
const TS_LANGS = new Set(['ts', 'typescript']);
const JS_LANGS = new Set(['js', 'javascript']);

/** Pages the lead is still writing: links to them are allowed before they exist. */
const PLANNED_PAGES = new Set<string>();

interface Block {
  readonly doc: string;
  /** 1-based line of the block's first code line in its document. */
  readonly line: number;
  readonly lang: string;
  readonly attrs: ReadonlyMap<string, string>;
  readonly code: string;
}

function docFiles(): string[] {
  const docs = readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => 'docs/' + f);
  return ['README.md', ...docs];
}

function extractBlocks(doc: string, text: string): Block[] {
  const lines = text.split('\n');
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,}|~{3,})\s*([^\s`]*)\s*(.*)$/.exec(lines[i]!);
    if (open === null) continue;
    const [, indent, fence, lang, info] = open as unknown as [string, string, string, string, string];
    const close = new RegExp('^\\s*' + (fence[0] === '`' ? '`' : '~') + '{' + fence.length + ',}\\s*$');
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length && !close.test(lines[j]!); j++) {
      body.push(lines[j]!.startsWith(indent) ? lines[j]!.slice(indent.length) : lines[j]!);
    }
    assert.ok(j < lines.length, `${doc}:${i + 1}: a code fence is never closed`);
    const attrs = new Map<string, string>();
    for (const word of info.split(/\s+/).filter(Boolean)) {
      const eq = word.indexOf('=');
      attrs.set(eq === -1 ? word : word.slice(0, eq), eq === -1 ? '' : word.slice(eq + 1));
    }
    blocks.push({ doc, line: i + 2, lang: lang.toLowerCase(), attrs, code: body.join('\n') + '\n' });
    i = j;
  }
  return blocks;
}

const DOCS = docFiles();
const BLOCKS = DOCS.flatMap((doc) => extractBlocks(doc, readFileSync(join(ROOT, doc), 'utf8')));
const isCode = (b: Block): boolean => TS_LANGS.has(b.lang) || JS_LANGS.has(b.lang);

/** The extension a block is checked (and run) under. */
function extensionOf(b: Block): string {
  const file = b.attrs.get('file');
  if (file !== undefined && file !== '') return extname(file);
  if (TS_LANGS.has(b.lang)) return '.ts';
  // CommonJS when the sample uses require() and has no import/export statement.
  return /\brequire\(/.test(b.code) && !/^\s*(import|export)\s/m.test(b.code) ? '.cjs' : '.mjs';
}

/**
 * The package's entry points as source files: `sockjs-express` → lib/index.ts, and each subpath
 * export (`sockjs-express/compat` → lib/compat.ts), read from package.json's ESM type paths.
 */
function entryPoints(): Map<string, string> {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
    exports: Record<string, string | { import?: { types?: string } }>;
  };
  const entries = new Map<string, string>();
  for (const [subpath, target] of Object.entries(pkg.exports)) {
    const types = typeof target === 'object' ? target.import?.types : undefined;
    const m = types === undefined ? null : /^\.\/dist\/esm\/(.+)\.d\.ts$/.exec(types);
    if (m === null) continue;
    entries.set(subpath === '.' ? 'sockjs-express' : 'sockjs-express' + subpath.slice(1), join(ROOT, 'lib', m[1]! + '.ts'));
  }
  return entries;
}

const ENTRIES = entryPoints();

/** Every name lib/index.ts exports, for signature blocks to refer to. */
function exportedNames(): string[] {
  const index = readFileSync(join(ROOT, 'lib/index.ts'), 'utf8');
  const names = new Set<string>();
  for (const m of index.matchAll(/^export (?:type )?\{([^}]*)\}/gm)) {
    for (const part of m[1]!.split(',')) {
      const name = part.trim().split(/\s+as\s+/).pop()!.trim();
      if (name !== '' && name !== 'default') names.add(name);
    }
  }
  return [...names];
}

/** What a block's file holds, and how many lines were put before the block's own code. */
function sourceOf(b: Block, ext: string): { text: string; before: number } {
  const target = b.attrs.get('signature');
  if (target !== undefined) {
    const real = target === 'module' ? "typeof import('sockjs-express')" : target;
    // Node's http types, for signatures that take or give its servers and options.
    const text =
      `import type { ${exportedNames().join(', ')} } from 'sockjs-express';\n` +
      `import type * as http from 'node:http';\n` +
      `interface Documented {\n${b.code}}\n` +
      `export const check: Documented = null as unknown as ${real};\n`;
    return { text, before: 3 };
  }
  // Each block is a module of its own, so blocks never share top-level names.
  return { text: ext === '.cjs' ? b.code : b.code + 'export {};\n', before: 0 };
}

// ---- the scratch folder: node_modules = the repository's, plus `sockjs-express` = lib/ ----------

let scratch = '';

function setUpScratch(): void {
  scratch = mkdtempSync(join(tmpdir(), 'sockjs-express-docs-'));
  writeFileSync(join(scratch, 'package.json'), JSON.stringify({ type: 'module', private: true }) + '\n');
  const modules = join(scratch, 'node_modules');
  mkdirSync(modules);
  for (const name of readdirSync(join(ROOT, 'node_modules'))) {
    if (name === 'sockjs-express' || name.startsWith('.')) continue;
    symlinkSync(join(ROOT, 'node_modules', name), join(modules, name), 'dir');
  }
  // What `import 'sockjs-express'` gives a sample that runs: the library's TypeScript source.
  const shim = join(modules, 'sockjs-express');
  mkdirSync(shim);
  const exportsMap: Record<string, string> = {};
  for (const [specifier, source] of ENTRIES) {
    const name = specifier === 'sockjs-express' ? 'index' : specifier.slice('sockjs-express/'.length).replace(/\//g, '_');
    exportsMap[specifier === 'sockjs-express' ? '.' : './' + specifier.slice('sockjs-express/'.length)] = `./${name}.ts`;
    const url = pathToFileURL(source).href;
    const hasDefault = /^export default |^export \{[^}]*\bdefault\b/m.test(readFileSync(source, 'utf8'));
    writeFileSync(join(shim, name + '.ts'), `export * from '${url}';\n` + (hasDefault ? `export { default } from '${url}';\n` : ''));
  }
  writeFileSync(join(shim, 'package.json'), JSON.stringify({ name: 'sockjs-express', type: 'module', exports: exportsMap }) + '\n');
  // Samples listen on fixed ports; this turns every listen() into port 0 and reports the port.
  writeFileSync(
    join(scratch, 'listen-on-port-0.mjs'),
    `import net from 'node:net';
const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  if (typeof args[0] === 'number' || (typeof args[0] === 'string' && /^\\d+$/.test(args[0]))) args[0] = 0;
  else if (args[0] !== null && typeof args[0] === 'object' && 'port' in args[0]) args[0] = { ...args[0], port: 0 };
  else if (args.length === 0 || typeof args[0] === 'function') args.unshift(0);
  this.once('listening', () => {
    const a = this.address();
    if (a !== null && typeof a === 'object') process.stdout.write('\\n@@docs-test listening ' + a.port + '\\n');
  });
  return listen.apply(this, args);
};
`,
  );
}

// ---- running a sample ---------------------------------------------------------------------------

interface Running {
  readonly child: ChildProcess;
  readonly base: string;
  output(): string;
  /** Resolves with the exit code (or signal name) once the process has ended. */
  readonly exited: Promise<number | string>;
}

/** Writes a page's `file=` blocks into a folder of its own and starts the `run=` block there. */
async function startSample(block: Block): Promise<Running> {
  const dir = join(scratch, 'run', basename(block.doc, '.md') + '-' + block.line);
  mkdirSync(dir, { recursive: true });
  for (const b of BLOCKS) {
    const file = b.attrs.get('file');
    if (b.doc !== block.doc || file === undefined || file === '' || b === block) continue;
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    writeFileSync(join(dir, file), b.code);
  }
  const entry = block.attrs.get('file') || 'main' + extensionOf(block);
  writeFileSync(join(dir, entry), block.code);
  const child = spawn(process.execPath, ['--import', 'tsx', '--import', join(scratch, 'listen-on-port-0.mjs'), entry], {
    cwd: dir,
    env: { ...process.env, NODE_ENV: 'test', DEBUG: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.setEncoding('utf8');
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (d: string) => (out += d));
  const exited = new Promise<number | string>((done) => child.on('exit', (code, signal) => done(code ?? signal ?? 'unknown')));
  // A cold start compiles lib/ through tsx: seconds on a loaded machine, so the bound is wide.
  const port = await new Promise<number>((done, fail) => {
    const t = setTimeout(() => {
      child.kill('SIGKILL');
      fail(new Error(`${block.doc}:${block.line} did not listen within 60 s:\n${out}`));
    }, 60_000);
    child.stdout!.on('data', (d: string) => {
      out += d;
      const m = /@@docs-test listening (\d+)/.exec(out);
      if (m !== null) {
        clearTimeout(t);
        done(Number(m[1]));
      }
    });
    void exited.then((code) => {
      clearTimeout(t);
      fail(new Error(`${block.doc}:${block.line} exited (${code}) before listening:\n${out}`));
    });
  });
  return { child, base: `http://127.0.0.1:${port}`, output: () => out, exited };
}

async function stopSample(run: Running): Promise<void> {
  if (run.child.exitCode !== null || run.child.signalCode !== null) return;
  run.child.kill('SIGKILL');
  await run.exited;
}

// ---- what a real client checks --------------------------------------------------------------------

/** An echo service at `base`: xhr polling and a websocket session both get their message back. */
async function assertEcho(base: string): Promise<void> {
  const info = await GET(base + '/info');
  assert.equal(info.status, 200);
  assert.match(info.body, /^\{"websocket":true,/);

  const session = sessionUrl(base);
  assert.equal((await POST(session + '/xhr')).body, 'o\n');
  assert.equal((await POST(session + '/xhr_send', { body: '["over xhr"]' })).status, 204);
  assert.equal((await POST(session + '/xhr')).body, 'a["over xhr"]\n');

  const ws = new WsClient(sessionUrl(base.replace(/^http/, 'ws')) + '/websocket');
  assert.equal(await ws.next(), 'o');
  ws.send('["over a websocket"]');
  assert.equal(await ws.next(), 'a["over a websocket"]');
  ws.close();
  await ws.closed;
}

interface FakeElement {
  value: string;
  textContent: string;
  onsubmit: ((event: { preventDefault(): void }) => void) | null;
  onclick: (() => void) | null;
}

/**
 * Runs a page's inline scripts in a bare context with sockjs-client (the npm build, in Node) as
 * `SockJS` and a `document` of plain objects, so the browser code of a sample runs for real.
 */
function runPageScripts(html: string, base: string): { element(id: string): FakeElement; close(): void } {
  type SockJSCtor = new (url: string, reserved?: unknown, options?: unknown) => object;
  const RealSockJS = require('sockjs-client') as SockJSCtor;
  const elements = new Map<string, FakeElement>();
  const element = (id: string): FakeElement => {
    let e = elements.get(id);
    if (e === undefined) elements.set(id, (e = { value: '', textContent: '', onsubmit: null, onclick: null }));
    return e;
  };
  // Relative URLs resolve against the page's origin, as in a browser.
  function SockJS(url: string, reserved?: unknown, options?: unknown): object {
    return new RealSockJS(new URL(url, base).href, reserved, options);
  }
  const context = vm.createContext({ SockJS, document: { getElementById: element }, console });
  for (const m of html.matchAll(/<script>([\s\S]*?)<\/script>/g)) vm.runInContext(m[1]!, context);
  // The page's socket, closed when the test is done with it (if the page calls it `sock`).
  const close = (): void => void vm.runInContext('typeof sock === "object" && sock !== null && sock.close()', context);
  return { element, close };
}

/** sockjs-client (npm, in Node) connecting to `url`: resolves with how it closed, if it never opened. */
function clientCloses(url: string): Promise<string> {
  type Sock = { onopen: (() => void) | null; onclose: ((e: { code: number; reason: string }) => void) | null; close(): void };
  const SockJS = require('sockjs-client') as new (url: string) => Sock;
  return new Promise((done) => {
    const sock = new SockJS(url);
    sock.onopen = () => {
      sock.close();
      done('opened');
    };
    sock.onclose = (e) => done(`${e.code} ${e.reason}`);
  });
}

type Scenario = (run: Running, block: Block) => Promise<void>;

const SCENARIOS: Record<string, Scenario> = {
  /** README: the ten-line echo server. */
  async readme(run) {
    await assertEcho(run.base + '/echo');
  },

  /** Getting started: the echo service, the client bundle from npm, the page, and its script. */
  async 'getting-started'(run, block) {
    await assertEcho(run.base + '/echo');
    const bundle = await GET(run.base + '/sockjs.min.js');
    assert.equal(bundle.status, 200);
    assert.match(bundle.body, /SockJS/);
    const iframe = await GET(run.base + '/echo/iframe.html');
    assert.match(iframe.body, /<script src="\/sockjs\.min\.js"><\/script>/, 'the iframe page loads the same bundle');
    const page = await GET(run.base + '/');
    assert.equal(page.status, 200);
    const html = BLOCKS.find((b) => b.doc === block.doc && b.attrs.get('file') === 'public/index.html');
    assert.ok(html !== undefined, 'the page block (file=public/index.html) exists');
    assert.equal(page.body, html.code, 'the server serves the page');
    assert.match(page.body, /<script src="\/sockjs\.min\.js"><\/script>/);

    const { element, close } = runPageScripts(page.body, run.base);
    try {
      const log = element('log');
      await waitUntil(() => log.textContent.includes('open, using websocket'), 'the page to log "open"');
      element('text').value = 'ping from the page';
      element('form').onsubmit!({ preventDefault() {} });
      await waitUntil(() => log.textContent.includes('received: ping from the page'), 'the echo to reach the page');
    } finally {
      close();
    }
  },

  /** Authentication: cookie middleware in front of the router guards HTTP and websockets alike. */
  async auth(run) {
    const base = run.base + '/chat';
    const wsBase = base.replace(/^http/, 'ws');
    const signedIn = { Cookie: 'sid=c2VjcmV0' };
    assert.equal((await GET(base + '/info')).status, 401);
    assert.equal((await POST(sessionUrl(base) + '/xhr')).status, 401);
    const denied = new WsClient(sessionUrl(wsBase) + '/websocket');
    await assert.rejects(denied.opened, /unexpected response 401/);
    assert.equal(await clientCloses(base), '1002 Cannot connect to server');

    const polling = sessionUrl(base);
    assert.equal((await POST(polling + '/xhr', { headers: signedIn })).body, 'o\n');
    const ws = new WsClient(sessionUrl(wsBase) + '/websocket', { headers: signedIn });
    assert.equal(await ws.next(), 'o');
    ws.send('["hi"]');
    assert.equal(await ws.next(), 'a["alice: hi"]');
    assert.equal((await POST(polling + '/xhr', { headers: signedIn })).body, 'a["alice: hi"]\n');
    ws.close();
    await ws.closed;
  },

  /** Authentication: the token as the first message. */
  async 'first-message'(run) {
    const wsBase = run.base.replace(/^http/, 'ws') + '/chat';
    const bad = new WsClient(sessionUrl(wsBase) + '/websocket');
    assert.equal(await bad.next(), 'o');
    bad.send('["not the token"]');
    assert.equal(await bad.next(), 'c[4003,"Bad token"]');
    await bad.closed;
    assert.equal(bad.closeCode, 4003);

    const good = new WsClient(sessionUrl(wsBase) + '/websocket');
    assert.equal(await good.next(), 'o');
    good.send('["let-me-in"]');
    assert.equal(await good.next(), 'a["welcome alice"]');
    good.send('["hi"]');
    assert.equal(await good.next(), 'a["alice: hi"]');
    good.close();
    await good.closed;
  },

  /** NestJS: the gateway on SockJSAdapter, its page and the page's script, sockjs-client over websocket and xhr-polling. */
  async nestjs(run, block) {
    const page = await GET(run.base + '/index.html');
    assert.equal(page.status, 200);
    const html = BLOCKS.find((b) => b.doc === block.doc && b.attrs.get('file') === 'public/index.html');
    assert.ok(html !== undefined, 'the page block (file=public/index.html) exists');
    assert.equal(page.body, html.code, 'the app serves the page');
    assert.match((await GET(run.base + '/sockjs.min.js')).body, /SockJS/);

    type Sock = { onopen: (() => void) | null; onmessage: ((e: { data: string }) => void) | null; send(d: string): void; close(): void };
    const SockJS = require('sockjs-client') as new (url: string, p: null, o: { transports: string[]; timeout: number }) => Sock;
    const polling = await new Promise<{ sock: Sock; inbox: unknown[] }>((done) => {
      const sock = new SockJS(run.base + '/chat', null, { transports: ['xhr-polling'], timeout: 10_000 });
      const inbox: unknown[] = [];
      sock.onmessage = (e) => inbox.push(JSON.parse(e.data));
      sock.onopen = () => done({ sock, inbox });
    });
    const { element, close } = runPageScripts(page.body, run.base);
    try {
      const log = element('log');
      await waitUntil(() => log.textContent.includes('over websocket'), 'the page to be welcomed', 20_000);
      element('text').value = 'hello from the page';
      element('form').onsubmit!({ preventDefault() {} });
      await waitUntil(() => log.textContent.includes('(1 others heard you)'), 'the answer to reach the page', 20_000);
      await waitUntil(() =>
        polling.inbox.some((m) => JSON.stringify(m).includes('"text":"hello from the page"')), 'the polling client to hear it', 20_000);
      element('form').onsubmit!({ preventDefault() {} });
      await waitUntil(() => log.textContent.includes('error: say takes some text'), 'the WsException to reach the page', 20_000);
      assert.equal((polling.inbox[0] as { event: string }).event, 'welcome');
    } finally {
      close();
      polling.sock.close();
    }
  },

  /** Deployment: SIGTERM closes every session with 1001, and the process then exits by itself. */
  async shutdown(run) {
    const base = run.base + '/echo';
    const ws = new WsClient(sessionUrl(base.replace(/^http/, 'ws')) + '/websocket');
    assert.equal(await ws.next(), 'o');
    const polling = sessionUrl(base);
    assert.equal((await POST(polling + '/xhr')).body, 'o\n');
    // A waiting poll, known to be held: of two at once the server holds one and answers the
    // other c[2010] (a poll not yet read when SIGTERM comes would be dropped as idle).
    const [p1, p2] = [POST(polling + '/xhr'), POST(polling + '/xhr')];
    const first = await Promise.race([p1.then((r) => ({ r, poll: p2 })), p2.then((r) => ({ r, poll: p1 }))]);
    assert.equal(first.r.body, 'c[2010,"Another connection still open"]\n');
    const poll = first.poll;
    const t0 = Date.now();
    run.child.kill('SIGTERM');
    assert.equal(await ws.next(), 'c[1001,"Server is shutting down"]');
    assert.equal((await poll).body, 'c[1001,"Server is shutting down"]\n');
    assert.equal(await run.exited, 0);
    assert.ok(Date.now() - t0 < 5000, `exited ${Date.now() - t0} ms after SIGTERM`);
  },
};

// ---- the tests --------------------------------------------------------------------------------------

before(setUpScratch);
after(() => {
  if (scratch !== '') rmSync(scratch, { recursive: true, force: true });
});

test('docs: every fenced block names a language, and the ones that are not code to check are known', () => {
  const bad = BLOCKS.filter((b) => !isCode(b) && !KNOWN_OTHER.has(b.lang)).map((b) => `${b.doc}:${b.line} "${b.lang}"`);
  assert.deepEqual(bad, [], 'use ts/js for code, or one of: ' + [...KNOWN_OTHER].join(', '));
  assert.ok(BLOCKS.filter(isCode).length >= 10, 'the docs have code blocks to check');
});

test('docs: run= names a scenario of this test, and README and getting started are run', () => {
  const runs = BLOCKS.filter((b) => b.attrs.has('run'));
  for (const b of runs) {
    assert.ok(b.attrs.get('run')! in SCENARIOS, `${b.doc}:${b.line}: no scenario "${b.attrs.get('run')}" in docs.test.ts`);
    assert.ok(isCode(b), `${b.doc}:${b.line}: only ts/js blocks can run`);
  }
  assert.ok(runs.some((b) => b.doc === 'README.md'), 'the README example runs');
  assert.ok(runs.some((b) => b.doc === 'docs/getting-started.md'), 'the getting started server runs');
});

/** The text of a document outside its code fences. */
function prose(markdown: string): string {
  const out: string[] = [];
  let fence: RegExp | null = null;
  for (const line of markdown.split('\n')) {
    if (fence !== null) {
      if (fence.test(line)) fence = null;
      continue;
    }
    const open = /^\s*(`{3,}|~{3,})/.exec(line);
    if (open !== null) fence = new RegExp('^\\s*' + (open[1]![0] === '`' ? '`' : '~') + '{' + open[1]!.length + ',}\\s*$');
    else out.push(line);
  }
  return out.join('\n');
}

/** The anchors GitHub gives a document's headings (its slugger: lower case, punctuation out, spaces to -). */
function anchorsOf(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  for (const m of prose(markdown).matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const text = m[1]!.replace(/\[([^\]]*)\]\([^)]*\)/g, '$1');
    const base = text.toLowerCase().replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '').replace(/ /g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  return anchors;
}

test('docs: relative links point at files and headings that exist', () => {
  const broken: string[] = [];
  for (const doc of DOCS) {
    const text = prose(readFileSync(join(ROOT, doc), 'utf8'));
    for (const m of text.matchAll(/\]\(([^)\s#]*)(?:#([^)\s]*))?\)/g)) {
      const [, target, anchor] = m as unknown as [string, string, string | undefined];
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue;
      const path = target === '' ? doc : relative(ROOT, resolve(ROOT, dirname(doc), target));
      if (PLANNED_PAGES.has(path)) continue;
      if (!existsSync(join(ROOT, path))) {
        broken.push(`${doc}: ${target}`);
      } else if (anchor !== undefined && path.endsWith('.md') && !anchorsOf(readFileSync(join(ROOT, path), 'utf8')).has(anchor)) {
        broken.push(`${doc}: ${target}#${anchor}`);
      }
    }
  }
  assert.deepEqual(broken, []);
});

/**
 * Type-checks the blocks of one language in one program. TypeScript is strict; JavaScript is
 * strict too but without noImplicitAny, which plain JavaScript cannot satisfy (untyped callback
 * parameters, packages without types such as sockjs-node in the migration guide).
 */
function typeCheck(langs: ReadonlySet<string>, dir: string, js: boolean): string[] {
  mkdirSync(dir, { recursive: true });
  const files = new Map<string, { block: Block; before: number }>();
  for (const b of BLOCKS.filter((x) => langs.has(x.lang))) {
    const ext = extensionOf(b);
    const file = join(dir, `${b.doc.replace(/[/.]/g, '_')}_${b.line}${ext}`);
    const { text, before } = sourceOf(b, ext);
    writeFileSync(file, text);
    files.set(file, { block: b, before });
  }
  if (files.size === 0) return [];
  const program = ts.createProgram([...files.keys()], {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    lib: ['lib.es2022.d.ts'],
    types: ['node'],
    typeRoots: [join(ROOT, 'node_modules/@types')],
    strict: true,
    noImplicitAny: !js,
    noImplicitOverride: true,
    noFallthroughCasesInSwitch: true,
    esModuleInterop: true,
    // NestJS samples (docs/nestjs.md) use Nest's decorators, which are TypeScript's legacy ones.
    experimentalDecorators: true,
    skipLibCheck: true,
    allowJs: js,
    checkJs: js,
    noEmit: true,
    paths: Object.fromEntries([...ENTRIES].map(([specifier, source]) => [specifier, [source]])),
  });
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const text = ts.flattenDiagnosticMessageText(d.messageText, '\n');
    if (d.file === undefined || d.start === undefined) return text;
    const { line } = d.file.getLineAndCharacterOfPosition(d.start);
    const f = files.get(resolve(d.file.fileName));
    if (f === undefined) return `${d.file.fileName}:${line + 1}: ${text}`;
    const inBlock = Math.min(Math.max(line - f.before, 0), f.block.code.split('\n').length - 2);
    return `${f.block.doc}:${f.block.line + inBlock}: ${text}`;
  });
}

test('docs: every ts block type-checks (strict) against lib/', () => {
  assert.deepEqual(typeCheck(TS_LANGS, join(scratch, 'check-ts'), false), []);
});

test('docs: every js block type-checks (strict but for implicit any) against lib/', () => {
  assert.deepEqual(typeCheck(JS_LANGS, join(scratch, 'check-js'), true), []);
});

// One at a time: five samples compiling lib/ at once starved each other past any bound on a
// busy 2-core machine.
describe('docs: samples marked run= answer a real client', () => {
  for (const block of BLOCKS.filter((b) => b.attrs.has('run'))) {
    const name = block.attrs.get('run')!;
    test(`${block.doc}:${block.line} (${name})`, { timeout: 90_000 }, async () => {
      const scenario = SCENARIOS[name];
      assert.ok(scenario !== undefined, `no scenario "${name}"`);
      const run = await startSample(block);
      try {
        await scenario(run, block);
      } catch (err) {
        (err as Error).message += `\n--- output of ${block.doc}:${block.line} ---\n${run.output()}`;
        throw err;
      } finally {
        await stopSample(run);
      }
    });
  }
});
