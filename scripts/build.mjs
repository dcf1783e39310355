// Builds dist/esm (ES modules) and dist/cjs (CommonJS), each with .d.ts files.
// A package.json in each folder tells Node which module system the .js files use.
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
rmSync('dist', { recursive: true, force: true });
for (const [project, dir, type] of [
  ['tsconfig.json', 'dist/esm', 'module'],
  ['tsconfig.cjs.json', 'dist/cjs', 'commonjs'],
]) {
  execFileSync(process.execPath, [tsc, '-p', project], { stdio: 'inherit' });
  mkdirSync(dir, { recursive: true });
  writeFileSync(`${dir}/package.json`, JSON.stringify({ type }) + '\n');
}
// CommonJS users expect `const sockjs = require('sockjs-express')` to be the factory itself;
// the named exports (and `.default`) hang off it.
writeFileSync(
  'dist/cjs/main.js',
  "'use strict';\nconst lib = require('./index.js');\nmodule.exports = Object.assign(lib.default, lib);\n",
);
