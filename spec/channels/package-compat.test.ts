/**
 * The built `sockjs-express/compat` subpath (run `npm run build` first), and the channel and ws
 * adapter exports of the main entry, from ESM and CommonJS, as an installed package is used.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

function run(code: string, type: 'module' | 'commonjs'): string {
  return execFileSync(process.execPath, [type === 'module' ? '--input-type=module' : '--input-type=commonjs', '-e', code], { cwd: root, encoding: 'utf8' }).trim();
}

test('package: "./compat" is exported for import and require, with types, and the files are built', () => {
  const pkg = JSON.parse(readFileSync(root + 'package.json', 'utf8')) as { exports: Record<string, unknown> };
  assert.deepEqual(pkg.exports['./compat'], {
    import: { types: './dist/esm/compat.d.ts', default: './dist/esm/compat.js' },
    require: { types: './dist/cjs/compat.d.ts', default: './dist/cjs/compat.js' },
  });
  for (const f of ['dist/esm/compat.js', 'dist/esm/compat.d.ts', 'dist/cjs/compat.js', 'dist/cjs/compat.d.ts']) {
    assert.ok(existsSync(root + f), `${f} is missing (run npm run build)`);
  }
});

test('package: require("sockjs-express/compat") has createServer and listen, as require("sockjs")', () => {
  const out = run(
    "const sockjs = require('sockjs-express/compat'); const s = sockjs.createServer({ prefix: '/echo' });" +
      "console.log(typeof sockjs.createServer, typeof sockjs.listen, typeof s.installHandlers, typeof s.attach, typeof s.detach, s instanceof require('node:events'), typeof sockjs.default)",
    'commonjs',
  );
  assert.equal(out, 'function function function function function true function');
});

test('package: import sockjs from "sockjs-express/compat" (default and named exports, ESM)', () => {
  const out = run(
    "import sockjs, { createServer, listen, SockJSConnection, MultiplexServer } from 'sockjs-express/compat';" +
      'console.log(typeof sockjs, sockjs.createServer === createServer, sockjs.listen === listen, typeof SockJSConnection, typeof MultiplexServer, typeof sockjs({ prefix: "/x" }).installHandlers)',
    'module',
  );
  assert.equal(out, 'function true true function function function');
});

test('package: the main entry exports multiplex and the ws adapter (ESM and CommonJS), compat stays apart', () => {
  const esm = run(
    "import * as m from 'sockjs-express'; console.log(typeof m.multiplex, typeof m.Multiplexer, typeof m.ChannelConnection, typeof m.wsAdapter, typeof m.sockjsWebSocketServer, typeof m.SockJSWebSocket, 'createServer' in m)",
    'module',
  );
  assert.equal(esm, 'function function function function function function false');
  const cjs = run("const s = require('sockjs-express'); console.log(typeof s, typeof s.multiplex, typeof s.wsAdapter, typeof s.sockjsWebSocketServer)", 'commonjs');
  assert.equal(cjs, 'function function function function');
});

test('package: the compat echo example runs from the built CommonJS entry', () => {
  const out = run(
    `const http = require('http');
     const sockjs = require('sockjs-express/compat');
     const echo = sockjs.createServer({ disconnect_delay: 200 });
     echo.on('connection', (conn) => conn.on('data', (m) => conn.write(m)));
     const server = http.createServer();
     echo.installHandlers(server, { prefix: '/echo' });
     server.listen(0, '127.0.0.1', () => {
       const port = server.address().port;
       const post = (path, body) => new Promise((res) => {
         const req = http.request({ port, host: '127.0.0.1', path, method: 'POST' }, (r) => { let b = ''; r.on('data', (d) => (b += d)); r.on('end', () => res(b)); });
         req.end(body);
       });
       (async () => {
         const a = await post('/echo/1/abc/xhr');
         await post('/echo/1/abc/xhr_send', '["built"]');
         const b = await post('/echo/1/abc/xhr');
         console.log(JSON.stringify([a, b]));
         await echo.close();
         server.close();
       })();
     });`,
    'commonjs',
  );
  assert.equal(out, JSON.stringify(['o\n', 'a["built"]\n']));
});
