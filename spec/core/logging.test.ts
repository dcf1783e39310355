/** Structured logging: the log option's fields, nothing per message, and DEBUG=sockjs-express:*. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { LogFields, LogSeverity } from '../../lib/index.js';
import { POST, sessionUrl } from '../support/client.js';
import { startService } from '../support/service.js';

test('log: session lines carry request_id (from X-Request-Id), session_id and transport; no line per message', async () => {
  const lines: { severity: LogSeverity; message: string; fields?: LogFields }[] = [];
  const s = await startService({ log: (severity, message, fields) => lines.push({ severity, message, fields }) }, (r) =>
    r.on('connection', (c) => c.on('data', (m) => c.write(m))),
  );
  const base = sessionUrl(s.url);
  await POST(base + '/xhr', { headers: { 'X-Request-Id': 'req-42' } });
  for (let i = 0; i < 20; i++) await POST(base + '/xhr_send', { body: '["m"]' });
  await POST(base + '/xhr_send', { body: '[1]' });
  await s.r.close();
  await s.close();
  const opened = lines.find((l) => l.message === 'session opened')!;
  assert.equal(opened.severity, 'info');
  assert.equal(opened.fields?.request_id, 'req-42');
  assert.equal(opened.fields?.transport, 'xhr-polling');
  assert.match(String(opened.fields?.session_id), /^[0-9a-f-]{36}$/);
  const closed = lines.find((l) => l.message === 'session closed')!;
  assert.equal(closed.fields?.session_id, opened.fields?.session_id);
  assert.equal(closed.fields?.cause, 'shutdown');
  const bad = lines.find((l) => l.message.startsWith('bad payload'))!;
  assert.equal(bad.severity, 'debug');
  assert.equal(bad.fields?.session_id, opened.fields?.session_id);
  assert.match(String(bad.fields?.request_id), /^r[0-9a-z]+$/);
  // 21 messages went through; the lines are about sessions, not messages.
  assert.ok(lines.filter((l) => l.severity !== 'debug').length <= 2, JSON.stringify(lines));
});

test('log: without a log option, DEBUG=sockjs-express:* prints lines with their fields to stderr', () => {
  const lib = fileURLToPath(new URL('../../lib/index.ts', import.meta.url));
  const script = `
    import sockjs from ${JSON.stringify(lib)};
    import http from 'node:http';
    const r = sockjs();
    const s = http.createServer((req, res) => r(req, res, () => res.end())).listen(0, '127.0.0.1', async () => {
      await fetch('http://127.0.0.1:' + s.address().port + '/0/abc/xhr', { method: 'POST' });
      await r.close();
      s.close();
    });`;
  const stderrWith = (debug: string): string =>
    spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      env: { ...process.env, DEBUG: debug },
      encoding: 'utf8',
      timeout: 20000,
    }).stderr;
  const on = stderrWith('sockjs-express:*');
  assert.match(on, /sockjs-express:info session opened request_id=r\w+ session_id=[0-9a-f-]{36} transport=xhr-polling/);
  assert.match(on, /sockjs-express:info session closed .*cause=shutdown/);
  assert.doesNotMatch(stderrWith('other:*'), /sockjs-express/);
  assert.doesNotMatch(stderrWith('sockjs-express:*,-sockjs-express:info'), /session opened/);
});
