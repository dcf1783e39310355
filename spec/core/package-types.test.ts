/**
 * The packed package (`npm pack`) as users install it: into fresh projects with the oldest
 * supported @types/node (the pinned 20.x) and the latest (the `types-node-latest` dev alias),
 * compiled by the real tsc with `skipLibCheck: false`, as ESM and CommonJS, with
 * `moduleResolution` node16 and bundler.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const versionOf = (pkg: string): string => (JSON.parse(readFileSync(join(root, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }).version;
const NODE_TYPES = [versionOf('@types/node'), versionOf('types-node-latest')];

let dir = '';
let tarball = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'sockjs-express-types-'));
  // The build is fresh (npm test builds first): pack it as it is.
  const out = execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: root, encoding: 'utf8' });
  tarball = join(dir, (JSON.parse(out) as { filename: string }[])[0]!.filename);
});
after(() => {
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

const ESM = `
import http from 'node:http';
import express from 'express';
import sockjs, { expressServer, type Connection, type SockJSRouter } from 'sockjs-express';
import compat from 'sockjs-express/compat';

interface User { name: string }
const app = express();
const chat: SockJSRouter<{ user: User }> = sockjs<{ user: User }>({ disabled_transports: ['xhr-polling'], verify: (req) => req.ip !== '10.0.0.1' });
chat.on('connection', (conn) => {
  const name: string = conn.locals.user.name;
  conn.write(name + conn.ip + conn.ips.length);
});
app.use('/chat', chat);
const server = http.createServer(app);
chat.attach(server);
chat.attach(expressServer(app));
compat.createServer({ prefix: '/echo' }).installHandlers(server);
const first: Connection<{ user: User }> | undefined = [...chat.connections][0];
// @ts-expect-error @internal members are not published
void first?.session;
// @ts-expect-error @internal members are not published
void first?.wrapper;
export { chat };
`;

const CJS = `
import http = require('node:http');
import express = require('express');
import sockjs = require('sockjs-express');
import compat = require('sockjs-express/compat');

interface User { name: string }
const chat = sockjs<{ user: User }>({ heartbeat_delay: 1000 });
chat.on('connection', (conn: sockjs.Connection<{ user: User }>) => conn.write(conn.locals.user.name + conn.ip));
const app = express();
app.use('/chat', chat);
const server = http.createServer(app);
chat.attach(server);
const again: sockjs.SockJSRouter = sockjs.sockjs();
const viaDefault: sockjs.SockJSRouter = sockjs.default();
const options: sockjs.SockJSOptions = { disabled_transports: [...sockjs.TRANSPORT_NAMES].slice(0, 1) };
compat.createServer({ prefix: '/echo' }).installHandlers(server);
export = { again, viaDefault, options };
`;

type Combo = { name: string; module: string; resolution: string; file: string; source: string };
const COMBOS: Combo[] = [
  { name: 'esm-node16', module: 'node16', resolution: 'node16', file: 'main.mts', source: ESM },
  { name: 'cjs-node16', module: 'node16', resolution: 'node16', file: 'main.cts', source: CJS },
  { name: 'esm-bundler', module: 'esnext', resolution: 'bundler', file: 'main.ts', source: ESM },
  // `import x = require()` under bundler resolution takes the package's "require" condition.
  { name: 'cjs-bundler', module: 'preserve', resolution: 'bundler', file: 'main.ts', source: CJS },
];

for (const nodeTypes of NODE_TYPES) {
  test(`package types: the packed tarball compiles with @types/node ${nodeTypes}, skipLibCheck false, ESM and CommonJS, node16 and bundler`, () => {
    const project = join(dir, 'node-' + nodeTypes);
    mkdirSync(project);
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'app', private: true }) + '\n');
    // The package as npm installs it (the tarball's files under node_modules/sockjs-express); its
    // dependencies and the app's (express, typescript, @types/*) linked from this repository's
    // node_modules, with the @types/node under test. No registry needed, offline or not.
    const modules = join(project, 'node_modules');
    mkdirSync(join(modules, '@types'), { recursive: true });
    mkdirSync(join(modules, 'sockjs-express'));
    execFileSync('tar', ['-xzf', tarball, '-C', join(modules, 'sockjs-express'), '--strip-components=1']);
    const from = join(root, 'node_modules');
    for (const name of readdirSync(from)) {
      if (name === '@types' || name === '.bin' || name === 'sockjs-express') continue;
      symlinkSync(join(from, name), join(modules, name));
    }
    for (const name of readdirSync(join(from, '@types'))) {
      if (name !== 'node') symlinkSync(join(from, '@types', name), join(modules, '@types', name));
    }
    const nodeDir = nodeTypes === versionOf('@types/node') ? join(from, '@types', 'node') : join(from, 'types-node-latest');
    symlinkSync(nodeDir, join(modules, '@types', 'node'));
    const tsc = join(modules, 'typescript', 'bin', 'tsc');
    const failures: string[] = [];
    for (const c of COMBOS) {
      const sub = join(project, c.name);
      mkdirSync(sub);
      writeFileSync(join(sub, c.file), c.source);
      writeFileSync(join(sub, 'tsconfig.json'), JSON.stringify({
        compilerOptions: {
          target: 'ES2022', module: c.module, moduleResolution: c.resolution, strict: true, noEmit: true,
          skipLibCheck: false, types: ['node'], esModuleInterop: true, lib: ['ES2022'],
        },
        files: [c.file],
      }));
      const r = spawnSync(process.execPath, [tsc, '-p', sub], { encoding: 'utf8' });
      if (r.status !== 0) failures.push(`${c.name}:\n${r.stdout}${r.stderr}`);
    }
    assert.deepEqual(failures, []);
  });
}

test('package shape: exports have types for each condition, every file the package names is in the tarball, maps carry their sources', () => {
  const listing = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).split('\n').filter(Boolean).map((f) => f.replace(/^package\//, ''));
  const files = new Set(listing);
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    main: string; types: string; module: string; license: string;
    repository?: { url: string }; bugs?: { url: string }; homepage?: string;
    exports: Record<string, string | Record<string, { types: string; default: string }>>;
  };
  const named = [pkg.main, pkg.types, pkg.module];
  for (const [key, entry] of Object.entries(pkg.exports)) {
    if (typeof entry === 'string') {
      named.push(entry);
      continue;
    }
    for (const cond of ['import', 'require'] as const) {
      const e: { types: string; default: string } | undefined = entry[cond];
      assert.ok(e !== undefined, `${key} has a ${cond} condition`);
      assert.deepEqual(Object.keys(e), ['types', 'default'], `${key} ${cond}: types first, then default`);
      assert.match(e.types, /\.d\.ts$/);
      named.push(e.types, e.default);
    }
  }
  for (const f of named) assert.ok(files.has(f.replace(/^\.\//, '')), `${f} is named by package.json but not in the tarball`);
  for (const f of ['LICENSE', 'CHANGELOG.md', 'README.md', 'package.json']) assert.ok(files.has(f), `${f} is in the tarball`);
  assert.equal(pkg.license, 'MIT');
  assert.match(readFileSync(join(root, 'LICENSE'), 'utf8'), /^MIT License/);
  assert.match(pkg.repository?.url ?? '', /github\.com\/sockjs-express\/sockjs-express/);
  assert.ok(pkg.bugs?.url !== undefined && pkg.homepage !== undefined);
  // No TypeScript sources and no tests ship; every map either ships its sources or embeds them.
  assert.deepEqual(listing.filter((f) => /\.ts$/.test(f) && !f.endsWith('.d.ts')), []);
  const maps = listing.filter((f) => f.endsWith('.map'));
  assert.ok(maps.length > 0);
  const unpacked = join(dir, 'unpacked');
  mkdirSync(unpacked, { recursive: true });
  execFileSync('tar', ['-xzf', tarball, '-C', unpacked]);
  for (const m of maps) {
    const map = JSON.parse(readFileSync(join(unpacked, 'package', m), 'utf8')) as { sources: string[]; sourcesContent?: (string | null)[] };
    map.sources.forEach((s, i) => {
      const shipped = files.has(join(m, '..', s).replace(/\\/g, '/'));
      assert.ok(shipped || typeof map.sourcesContent?.[i] === 'string', `${m} points at ${s}, which is neither shipped nor embedded`);
    });
  }
  // Relative imports of every shipped .d.ts resolve to a shipped file.
  for (const f of listing.filter((x) => x.endsWith('.d.ts'))) {
    const text = readFileSync(join(unpacked, 'package', f), 'utf8');
    for (const m of text.matchAll(/from '(\.{1,2}\/[^']+)\.js'/g)) {
      const target = join(f, '..', m[1]! + '.d.ts').replace(/\\/g, '/');
      assert.ok(files.has(target), `${f} imports ${m[1]}.js, whose ${target} is not shipped`);
    }
  }
  assert.ok(readdirSync(unpacked).length === 1);
});
