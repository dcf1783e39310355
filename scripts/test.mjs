// Runs every spec/**/*.test.ts file with Node's test runner (TypeScript through tsx).
// Usage: node scripts/test.mjs [substring...]   — only files whose path contains a substring.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

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
// System parts some tests need. On a contributor's machine a missing one is not installed (that
// takes root and Debian): its tests are skipped, listed here and reported by the test runner as
// skipped with the reason. Where CI is set, the project's own steps install it, and a part still
// missing fails the run.
const has = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
const PARTS = [
  {
    name: 'Chromium (/usr/bin/chromium)',
    // Browser tests live in spec/e2e and spec/demo, or are named browser/chromium elsewhere.
    needed: (f) => /spec[\\/](e2e|demo)[\\/]|(browser|chromium)\.test\.ts$/.test(f),
    present: () => existsSync('/usr/bin/chromium'),
    install: ['bash', ['scripts/install-chromium.sh']],
    how: 'sudo bash scripts/install-chromium.sh (Debian/Ubuntu: the chromium package)',
  },
  {
    name: 'redis-server',
    needed: (f) => /spec[\\/]scale[\\/]|redis[^\\/]*\.test\.ts$/.test(f),
    present: () => has('redis-server'),
    install: ['sh', ['-c', 'apt-get install -y -qq redis-server || (apt-get update -qq && apt-get install -y -qq redis-server)']],
    how: 'sudo apt-get install redis-server (or any redis-server 6+ on the PATH)',
  },
];
const ci = process.env.CI !== undefined && process.env.CI !== '' && process.env.CI !== 'false';
const skipped = [];
for (const part of PARTS) {
  const mine = files.filter(part.needed);
  if (mine.length === 0 || part.present()) continue;
  if (ci) {
    spawnSync(part.install[0], part.install[1], { stdio: 'inherit' });
    if (!part.present()) {
      console.error(`CI: ${part.name} is missing and could not be installed; ${mine.length} test file(s) need it`);
      process.exit(1);
    }
    continue;
  }
  skipped.push({ part, files: mine });
}
let run = files;
const skipFile = join(mkdtempSync(join(tmpdir(), 'sockjs-express-skips-')), 'skipped.test.mjs');
if (skipped.length > 0) {
  const gone = new Set(skipped.flatMap((s) => s.files));
  run = files.filter((f) => !gone.has(f));
  console.log('\nSkipped: these tests need system parts this machine does not have (CI installs them):');
  for (const s of skipped) {
    console.log(`  ${s.part.name}: ${s.files.join(', ')}`);
    console.log(`    to run them: ${s.part.how}`);
  }
  console.log('');
  // One skipped test per file, so the runner's own report counts and names them.
  const tests = skipped.flatMap((s) => s.files.map((f) =>
    `test(${JSON.stringify(f)}, { skip: ${JSON.stringify(`needs ${s.part.name}; ${s.part.how}`)} }, () => {});`));
  writeFileSync(skipFile, `import { test } from 'node:test';\n${tests.join('\n')}\n`);
  run = [...run, skipFile];
}
// A test that hangs fails after ten minutes instead of holding up the run: the longest take about
// 25 s alone, but a browser or docs file took over two minutes with the CPU saturated.
const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=600000', ...run], { stdio: 'inherit' });
rmSync(dirname(skipFile), { recursive: true, force: true });
process.exit(r.status ?? 1);
