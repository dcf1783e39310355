// The /__mem report of every bench server (CommonJS, so that sockjs-node.cjs shares it), and
// their exit when the runner is gone.
'use strict';
const v8 = require('node:v8');

/**
 * process.memoryUsage() after forcing full collections (servers run with --expose-gc), plus
 * `young`: the bytes V8 holds for its young generation. V8 grows that pool (up to 32 MiB at
 * default flags) while a process allocates fast, as when 10,000 sessions open at once, and keeps
 * it, empty after a GC, until its memory reducer runs seconds to a minute later. It is a
 * per-process buffer whatever the number of sessions, so the idle-memory scenario leaves it out
 * of the figure per session.
 */
function memReport(extra = {}) {
  if (typeof globalThis.gc === 'function') {
    globalThis.gc();
    globalThis.gc();
  }
  let young = 0;
  // Committed and used bytes of each V8 heap space (--json only), to tell where a heap's growth is.
  const spaces = {};
  for (const s of v8.getHeapSpaceStatistics()) {
    if (s.space_name === 'new_space' || s.space_name === 'new_large_object_space') young += s.space_size;
    spaces[s.space_name] = [s.space_size, s.space_used_size];
  }
  return { ...process.memoryUsage(), young, spaces, gc: typeof globalThis.gc === 'function', ...extra };
}

// Every bench server loads this file. A server whose parent (bench/run.mjs) is gone, killed
// outright with no chance to stop its children, exits rather than hold its port and memory.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) process.exit(0);
}, 1000).unref();

module.exports = { memReport };
