/**
 * A real redis-server for the tests of spec/scale (the test runner skips them where redis-server
 * is not installed): on a free port of 127.0.0.1, without persistence, stoppable and startable
 * again on the same port (an outage).
 */
import net from 'node:net';
import { spawn, type ChildProcess } from 'node:child_process';
import { waitUntil } from './wait.js';
import { freePort } from './ports.js';

export interface RedisServer {
  readonly port: number;
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
  readonly running: boolean;
  /** One inline command on a connection of its own: the raw reply, or '' if nothing answers. */
  command(command: string): Promise<string>;
  /** Starts it (again), once it answers PING. */
  start(): Promise<void>;
  /** A raw subscriber to `channel`: counts the messages published on it. */
  listen(channel: string): Promise<{ readonly count: number; close(): void }>;
  /** Kills it (SIGKILL: an outage, not a shutdown) and waits for it to exit. */
  stop(): Promise<void>;
}

function command(port: number, text: string): Promise<string> {
  return new Promise((resolve) => {
    let reply = '';
    const c = net.connect(port, '127.0.0.1', () => c.write(text + '\r\n'));
    c.setEncoding('utf8');
    c.on('data', (d: string) => {
      reply += d;
      if (reply.endsWith('\r\n')) c.end();
    });
    c.on('close', () => resolve(reply));
    c.on('error', () => resolve(''));
  });
}

/** A redis-server, started. */
export async function startRedisServer(): Promise<RedisServer> {
  const port = await freePort();
  let child: ChildProcess | null = null;
  const server: RedisServer = {
    port,
    url: `redis://127.0.0.1:${port}`,
    get running() {
      return child !== null;
    },
    command: (text) => command(port, text),
    async listen(channel) {
      let raw = '';
      const c = net.connect(port, '127.0.0.1', () => c.write(`SUBSCRIBE ${channel}\r\n`));
      c.setEncoding('utf8');
      c.on('data', (d: string) => (raw += d));
      c.on('error', () => undefined);
      await waitUntil(() => raw.includes('subscribe'), 'the subscription to ' + channel);
      return {
        get count() {
          return raw.split('$7\r\nmessage\r\n').length - 1;
        },
        close: () => c.destroy(),
      };
    },
    async start() {
      child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
      await waitUntil(async () => (await command(port, 'PING')) === '+PONG\r\n', 'redis-server to answer');
    },
    async stop() {
      if (child === null) return;
      const c = child;
      child = null;
      const exited = new Promise<void>((res) => c.once('exit', () => res()));
      c.kill('SIGKILL');
      await exited;
    },
  };
  await server.start();
  return server;
}
