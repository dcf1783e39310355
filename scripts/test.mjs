// Runs every spec/**/*.test.ts file with Node's test runner (TypeScript through tsx).
// Usage: node scripts/test.mjs [substring...]   — only files whose path contains a substring.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function find(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...find(p));
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

const filters = process.argv.slice(2);
const files = find('spec').sort().filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)));
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
// Browser tests need Debian's Chromium; install it (as the project's own step) when missing.
if (files.some((f) => /spec[\\/](e2e|demo)[\\/]/.test(f)) && !existsSync('/usr/bin/chromium')) {
  const install = spawnSync('bash', ['scripts/install-chromium.sh'], { stdio: 'inherit' });
  if (install.status !== 0) process.exit(install.status ?? 1);
}
// The Redis adapter's tests run a real redis-server from Debian's package.
if (files.some((f) => /spec[\\/]scale[\\/]/.test(f)) && spawnSync('sh', ['-c', 'command -v redis-server']).status !== 0) {
  const install = spawnSync('sh', ['-c', 'apt-get install -y -qq redis-server || (apt-get update -qq && apt-get install -y -qq redis-server)'], { stdio: 'inherit' });
  if (install.status !== 0) process.exit(install.status ?? 1);
}
// A test that hangs fails after ten minutes instead of holding up the run: the longest take about
// 25 s alone, but a browser or docs file took over two minutes with the CPU saturated.
const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=600000', ...files], { stdio: 'inherit' });
process.exit(r.status ?? 1);
