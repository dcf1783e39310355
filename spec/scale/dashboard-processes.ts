/** Two processes joined by the Redis adapter, one of them serving the dashboard: the set-up of the dashboard's multi-process tests. */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { redisAdapter } from '../../lib/redis.js';
import { openSession, startDashboardServer, type DashboardServer } from '../dashboard/fixture.js';
import type { WsClient } from '../support/client.js';
import type { RedisServer } from '../support/redis.js';
import { waitUntil } from '../support/wait.js';

export interface Peer {
  readonly child: ChildProcess;
  readonly root: string;
  /** An open websocket session on one of its services, after its open frame. */
  connect(service: 'chat' | 'echo'): Promise<WsClient>;
  /** SIGKILL: the process dies without a word to anyone. */
  kill(): Promise<void>;
}

/** This process's dashboard server, its services on Redis channels `chat` and `echo`. */
export function startLocal(redis: RedisServer): Promise<DashboardServer> {
  return startDashboardServer(undefined, (service) => redisAdapter({ url: redis.url, channel: service }));
}

/** Another Node process with the same services on the same channels. */
export async function startPeer(redis: RedisServer): Promise<Peer> {
  const child = fork(fileURLToPath(new URL('./dashboard-peer.ts', import.meta.url)), [redis.url], { execArgv: ['--import', 'tsx'], stdio: 'inherit' });
  const { root } = await new Promise<{ root: string }>((resolve, reject) => {
    child.once('message', (m) => resolve(m as { root: string }));
    child.once('exit', (code) => reject(new Error('the peer process exited with ' + code)));
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    child,
    root,
    connect: (service) => openSession(root, service),
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

/** Every adapter of both processes listens for questions: two on each service's control channel. */
export function allListening(redis: RedisServer): Promise<void> {
  return waitUntil(async () => /:2\r\n.*:2\r\n$/s.test(await redis.command('PUBSUB NUMSUB chat:control echo:control')), 'both processes to listen on the control channels', 30_000);
}
