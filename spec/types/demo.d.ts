// The demo server is plain JavaScript; its browser test imports it.
declare module '*/demo-app/server.mjs' {
  import type { Server } from 'node:http';
  import type { SockJSRouter } from '../../lib/index.js';
  export function createDemo(options?: { redis?: string }): { server: Server; service: SockJSRouter; close(): Promise<void> };
}

declare module '*/demo-app/cluster.mjs' {
  import type { Server } from 'node:http';
  import type { ChildProcess } from 'node:child_process';
  /** A sticky HTTP and websocket proxy in front of demo processes on these ports. */
  export function startStickyProxy(ports: number[], listenPort?: number): Promise<Server>;
  /** One demo process (server.mjs with REDIS_URL) on `port`. */
  export function startDemoProcess(port: number, redisUrl: string): Promise<ChildProcess>;
}
