/** The `sockjs-express/nestjs` entry of the build: ESM and CommonJS, and Nest stays out of the core. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

function run(code: string, type: 'module' | 'commonjs'): string {
  return execFileSync(process.execPath, [`--input-type=${type}`, '-e', code], { cwd: root, encoding: 'utf8' }).trim();
}

test('package: sockjs-express/nestjs gives SockJSAdapter to import and to require', () => {
  assert.equal(run("import { SockJSAdapter } from 'sockjs-express/nestjs'; console.log(typeof SockJSAdapter, SockJSAdapter.name)", 'module'), 'function SockJSAdapter');
  assert.equal(run("const { SockJSAdapter } = require('sockjs-express/nestjs'); console.log(typeof SockJSAdapter, SockJSAdapter.name)", 'commonjs'), 'function SockJSAdapter');
});

test('package: no built module loads Nest or rxjs at run time (the Nest entry uses their types only)', () => {
  for (const dir of ['dist/esm', 'dist/cjs']) {
    const files = readdirSync(join(root, dir), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.js'));
    assert.ok(files.includes('nestjs.js'), `${dir}/nestjs.js is built`);
    for (const f of files) {
      const text = readFileSync(join(root, dir, f), 'utf8');
      assert.doesNotMatch(text, /(?:from\s*|require\()\s*['"](?:@nestjs\/|rxjs)/, `${dir}/${f}`);
    }
  }
});

test('package: a misused adapter says what it needs', () => {
  const out = run(
    "const { SockJSAdapter } = require('sockjs-express/nestjs');" +
      "for (const f of [() => new SockJSAdapter({}), () => new SockJSAdapter({ getHttpServer() {}, getHttpAdapter() { return { getInstance() { return {}; } }; } }).create(0, {})," +
      " () => new SockJSAdapter({ getHttpServer() {}, getHttpAdapter() {} }, { path: 'a b' }), () => new SockJSAdapter({ getHttpServer() {}, getHttpAdapter() {} }).create(0, { namespace: 'x' })]) {" +
      " try { f(); console.log('no error'); } catch (e) { console.log(e.message); } }",
    'commonjs',
  );
  assert.deepEqual(out.split('\n'), [
    'sockjs-express/nestjs: new SockJSAdapter(app) takes the Nest application (NestFactory.create)',
    'sockjs-express/nestjs: SockJSAdapter needs the Express platform (@nestjs/platform-express)',
    `sockjs-express/nestjs: the adapter option path must be a URL path such as '/chat' (got "a b")`,
    'sockjs-express/nestjs: SockJSAdapter does not support namespaces; give the gateway a path of its own instead',
  ]);
});
