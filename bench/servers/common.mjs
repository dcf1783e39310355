// Shared by the ESM bench servers: the service settings every server uses, and the /__mem report.

/** Identical to sockjs-node's defaults; spelled out so both SockJS servers are configured alike. */
export const SETTINGS = {
  response_limit: 128 * 1024,
  heartbeat_delay: 25_000,
  disconnect_delay: 5_000,
};

/** process.memoryUsage() after forcing full collections (the server runs with --expose-gc). */
export function memReport(extra = {}) {
  if (typeof globalThis.gc === 'function') {
    globalThis.gc();
    globalThis.gc();
  }
  return { ...process.memoryUsage(), gc: typeof globalThis.gc === 'function', ...extra };
}
