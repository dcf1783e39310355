// Shared by the ESM bench servers: the service settings every server uses, and the /__mem report.

/** Identical to sockjs-node's defaults; spelled out so both SockJS servers are configured alike. */
export const SETTINGS = {
  response_limit: 128 * 1024,
  heartbeat_delay: 25_000,
  disconnect_delay: 5_000,
};

export { memReport } from './mem.cjs';
