// The demo server is plain JavaScript; its browser test imports it.
declare module '*/demo-app/server.mjs' {
  import type { Server } from 'node:http';
  import type { SockJSRouter } from '../../lib/index.js';
  export function createDemo(): { server: Server; service: SockJSRouter; close(): Promise<void> };
}
