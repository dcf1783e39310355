/** The published package: ESM and CommonJS entries of the build, with type declarations. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const pkg = JSON.parse(readFileSync(root + 'package.json', 'utf8')) as {
  exports: Record<string, { import: { types: string; default: string }; require: { types: string; default: string } }>;
  engines: { node: string };
  dependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
};

function run(code: string, type: 'module' | 'commonjs'): string {
  const flag = type === 'module' ? '--input-type=module' : '--input-type=commonjs';
  return execFileSync(process.execPath, [flag, '-e', code], { cwd: root, encoding: 'utf8' }).trim();
}

test('package: every export target of the build exists, with .d.ts files', () => {
  for (const entry of Object.values(pkg.exports)) {
    if (typeof entry === 'string') continue;
    for (const file of [entry.import.types, entry.import.default, entry.require.types, entry.require.default]) {
      assert.ok(existsSync(root + file), `${file} is missing (run npm run build)`);
    }
  }
});

test('package: import sockjs from "sockjs-express" gives the factory and the named exports (ESM)', () => {
  const out = run("import sockjs, { sockjs as named, Connection, metricsHandler } from 'sockjs-express'; console.log(typeof sockjs, sockjs === named, typeof Connection, typeof metricsHandler, typeof sockjs().attach)", 'module');
  assert.equal(out, 'function true function function function');
});

test('package: require("sockjs-express") is the factory itself, with named exports and .default (CommonJS)', () => {
  const out = run("const s = require('sockjs-express'); console.log(typeof s, s.default === s, typeof s.Connection, typeof s().on)", 'commonjs');
  assert.equal(out, 'function true function function');
});

test('package: runtime dependencies are ws, cookie and vary; express is a peer; Node >= 20', () => {
  assert.deepEqual(Object.keys(pkg.dependencies).sort(), ['cookie', 'vary', 'ws']);
  assert.ok('express' in pkg.peerDependencies);
  assert.equal(pkg.engines.node, '>=20');
});
