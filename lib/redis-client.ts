/**
 * How the Redis integrations (lib/redis.ts, lib/recovery/redis-store.ts) make and end their
 * node-redis clients. node-redis is an optional peer: it is imported only here, on first use.
 */

/** What every integration needs of a node-redis (v4 or later) client to start and end it. */
export interface RedisLifecycle {
  readonly isReady: boolean;
  /** False once the client has ended (node-redis v4 and later). */
  readonly isOpen?: boolean;
  connect(): Promise<unknown>;
  quit(): Promise<unknown>;
  /** v5 */
  destroy?(): unknown;
  /** v4 (deprecated in v5) */
  disconnect?(): Promise<unknown>;
}

type RedisModule = { createClient(options: { url: string; socket: { reconnectStrategy: (retries: number) => number } }): unknown };

/** A client for `url` (default the local Redis) that reconnects forever, backing off to 2 s. */
export async function createRedisClient(url: string | undefined): Promise<unknown> {
  let mod: RedisModule;
  try {
    mod = (await import('redis')) as unknown as RedisModule;
  } catch {
    throw new Error('sockjs-express/redis needs the "redis" package: npm install redis');
  }
  return mod.createClient({ url: url ?? 'redis://127.0.0.1:6379', socket: { reconnectStrategy: (n) => Math.min(50 * 2 ** n, 2000) } });
}

/**
 * Ends a client for good. A ready one quits (its pending commands finish first); one that is
 * still connecting or reconnecting is cut, since `quit` needs a connection and the retries would
 * otherwise go on after close and keep the process alive.
 */
export async function endRedisClient(client: RedisLifecycle): Promise<void> {
  if (client.isReady) await client.quit().catch(() => undefined);
  else await cutRedisClient(client);
}

/** Closes a client's connection now, without waiting for its pending commands (a blocking XREAD). */
export async function cutRedisClient(client: RedisLifecycle): Promise<void> {
  if (client.isOpen === false) return;
  try {
    if (client.destroy !== undefined) client.destroy();
    else await client.disconnect?.();
  } catch {
    // it ended meanwhile: nothing left to cut
  }
}
