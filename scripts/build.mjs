// Builds dist/esm (ES modules) and dist/cjs (CommonJS), each with .d.ts files.
// A package.json in each folder tells Node which module system the .js files use.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
// Its types say the same (`export =`): the factory, with every named export hanging off it.
// Generated from the exports of dist/cjs/index.d.ts, so a new export needs no edit here.
const ts = createRequire(import.meta.url)('typescript');
const program = ts.createProgram(['dist/cjs/index.d.ts'], { noEmit: true, skipLibCheck: true });
const checker = program.getTypeChecker();
const entry = checker.getSymbolAtLocation(program.getSourceFile('dist/cjs/index.d.ts'));
// Values (and classes) become `export import` aliases; what index.ts exports with `export type`
// cannot be aliased that way and becomes a type alias, with its type parameters.
const lines = [];
for (const sym of checker.getExportsOfModule(entry).sort((a, b) => a.getName().localeCompare(b.getName()))) {
  const n = sym.getName();
  if (n === 'default') continue;
  const spec = sym.declarations?.[0];
  const typeOnly = spec !== undefined && ts.isExportSpecifier(spec) && (spec.isTypeOnly || spec.parent.parent.isTypeOnly);
  if (!typeOnly) {
    lines.push(`  export import ${n} = lib.${n};`);
    continue;
  }
  const params = checker.getAliasedSymbol(sym).declarations?.find((d) => d.typeParameters !== undefined)?.typeParameters;
  const sf = (node) => node.getSourceFile().text.slice(node.pos, node.end).trim();
  lines.push(params === undefined
    ? `  export type ${n} = lib.${n};`
    : `  export type ${n}<${params.map((p) => sf(p)).join(', ')}> = lib.${n}<${params.map((p) => p.name.text).join(', ')}>;`);
}
writeFileSync(
  'dist/cjs/main.d.ts',
  [
    "import * as lib from './index.js';",
    '/** The factory (`sockjs` of lib/router.ts). */',
    'declare function sockjs<Locals extends object = Record<string, unknown>>(options?: lib.SockJSOptions): lib.SockJSRouter<Locals>;',
    'declare namespace sockjs {',
    ...lines,
    '  const _default: typeof lib.default;',
    '  export { _default as default };',
    '}',
    'export = sockjs;',
    '',
  ].join('\n'),
);

// The companion client as one script a page loads after sockjs-client's: the ES modules of
// dist/esm/client (and the wire format they share with the server) in dependency order, their
// import lines dropped and their exports made local, inside one function that sets the global
// `SockJSExpressClient`. The modules are written so this works: no default exports, no
// re-exported bindings, no name defined in two of them.
const browserModules = [
  'recovery/wire.js', 'client/emitter.js', 'client/backoff.js', 'client/environment.js',
  'client/log-position.js', 'client/receipts.js', 'client/send-queue.js', 'client/stall-watch.js', 'client/timeout.js', 'client/close-policy.js',
  'client/hello.js', 'client/socket.js',
];
const body = browserModules.map((file) => {
  const text = readFileSync(`dist/esm/${file}`, 'utf8')
    .replace(/^import [^;]*;\n/gm, '')
    .replace(/^export \{[^}]*\};\n/gm, '')
    .replace(/^export /gm, '')
    .replace(/^\/\/# sourceMappingURL=.*$/gm, '');
  return `// ${file}\n${text}`;
}).join('\n');
mkdirSync('dist/browser', { recursive: true });
writeFileSync(
  'dist/browser/sockjs-express-client.js',
  '/* sockjs-express/client for browsers: load after sockjs-client; sets window.SockJSExpressClient. MIT. */\n' +
    '(function (root) {\n"use strict";\n' + body +
    '\nroot.SockJSExpressClient = { connect: function (url, options) { return new RecoveringSocket(url, options); }, RecoveringSocket: RecoveringSocket };\n' +
    '})(typeof self !== "undefined" ? self : globalThis);\n',
);
