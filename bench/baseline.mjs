// `bench/run.mjs --baseline <rev>`: another revision of this repository, built, for an
// `ours@<rev>` column measured in the same run as the current code.
//
// The revision is checked out as a detached git worktree under os.tmpdir() (kept, keyed by its
// full commit, so the next run with the same revision reuses it), gets node_modules and is built
// with its own scripts/build.mjs. The bench servers are always this checkout's; they load the
// old build through BENCH_DIST (bench/servers/common.mjs).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT } from './harness.mjs';

const git = (args, cwd = ROOT) => execFileSync('git', args, { cwd, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 }).trim();

/**
 * Whether this checkout's node_modules can serve `lock` (another revision's package-lock.json):
 * every package it locks is installed here at the same version. Answers the first one that is
 * not, or null when all are.
 */
function missingFromHere(lock) {
  const here = path.join(ROOT, 'package-lock.json');
  if (!existsSync(here) || !existsSync(path.join(ROOT, 'node_modules'))) return 'this checkout has no package-lock.json or node_modules';
  const ours = JSON.parse(readFileSync(here, 'utf8')).packages ?? {};
  for (const [where, pkg] of Object.entries(JSON.parse(lock).packages ?? {})) {
    if (where === '' || pkg.link) continue;
    if (ours[where]?.version !== pkg.version) return `${where}@${pkg.version} (here ${ours[where]?.version ?? 'absent'})`;
  }
  return null;
}

/**
 * Checks out and builds `rev`; answers { rev (short), commit, dir, dist }. `log` reports each
 * step. Throws with the failing step's output when the revision cannot be built.
 */
export function prepareBaseline(rev, log) {
  let commit;
  try {
    commit = git(['rev-parse', '--verify', `${rev}^{commit}`]);
  } catch {
    throw new Error(`--baseline ${rev}: not a commit of this repository`);
  }
  const short = git(['rev-parse', '--short', commit]);
  const base = path.join(os.tmpdir(), 'sockjs-express-bench');
  const dir = path.join(base, commit);
  const dist = path.join(dir, 'dist');
  const built = path.join(dir, '.bench-built');
  if (existsSync(built) && existsSync(path.join(dist, 'esm/index.js'))) {
    log(`baseline ${short}: reusing the build in ${dir}`);
    return { rev: short, commit, dir, dist };
  }
  mkdirSync(base, { recursive: true });
  if (!existsSync(path.join(dir, 'package.json'))) {
    // A worktree left registered by an interrupted run would refuse the same path.
    git(['worktree', 'prune']);
    log(`baseline ${short}: git worktree add --detach ${dir}`);
    git(['worktree', 'add', '--detach', '--force', dir, commit]);
  }
  if (!existsSync(path.join(dir, 'node_modules'))) {
    const lock = path.join(dir, 'package-lock.json');
    const missing = existsSync(lock) ? missingFromHere(readFileSync(lock, 'utf8')) : 'it has no package-lock.json';
    if (missing === null) {
      // Everything it locks is installed here at the same version: share this checkout's.
      log(`baseline ${short}: its lockfile is a subset of this checkout's: node_modules linked to ${path.join(ROOT, 'node_modules')}`);
      symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
    } else {
      log(`baseline ${short}: npm ci (this checkout's node_modules lacks ${missing})`);
      execFileSync('npm', ['ci', '--no-audit', '--no-fund', '--ignore-scripts'], { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] });
    }
  }
  log(`baseline ${short}: building (node scripts/build.mjs)`);
  try {
    execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    throw new Error(`--baseline ${short}: its build failed: ${String(err.stderr || err.stdout || err.message).slice(-1500)}`);
  }
  if (!existsSync(path.join(dist, 'esm/index.js'))) throw new Error(`--baseline ${short}: its build wrote no dist/esm/index.js`);
  writeFileSync(built, commit + '\n');
  return { rev: short, commit, dir, dist };
}
