/**
 * A TCP proxy that tests control, for networks that misbehave: it forwards bytes between each
 * client connection and the server until told to go silent (both sockets stay open, nothing gets
 * through: a dead peer as the other side sees it), to drop bytes, or to cut or reset connections.
 *
 *   const proxy = await TcpProxy.start(srv.port);
 *   const ws = new WsClient(`ws://127.0.0.1:${proxy.port}/echo/websocket`);
 *   proxy.silence();           // every connection, both ways
 *   proxy.reset();             // RST to both sides
 */
import net from 'node:net';

/** `toServer`: what the client sends; `toClient`: what the server sends. */
export type Direction = 'toServer' | 'toClient';

/** One client connection and its connection to the server. */
export class ProxiedConnection {
  /** Forwarding is off: bytes are read and discarded (counted in `dropped`). */
  silent: Record<Direction, boolean> = { toServer: false, toClient: false };
  /** Bytes still to discard before forwarding again (see `drop()`). */
  toDrop: Record<Direction, number> = { toServer: 0, toClient: 0 };
  /** Bytes discarded so far. */
  readonly dropped: Record<Direction, number> = { toServer: 0, toClient: 0 };
  /** Bytes forwarded so far. */
  readonly forwarded: Record<Direction, number> = { toServer: 0, toClient: 0 };
  /** Resolves when both sockets are closed. */
  readonly closed: Promise<void>;
  private readonly waiters: (() => void)[] = [];

  constructor(
    readonly client: net.Socket,
    readonly server: net.Socket,
  ) {
    this.pipe(client, server, 'toServer');
    this.pipe(server, client, 'toClient');
    // Not events.once: it rejects on an 'error' first (a write after the peer's FIN: EPIPE), and
    // nobody awaits this with a rejection handler.
    const closed = (s: net.Socket): Promise<void> => new Promise((resolve) => s.once('close', () => resolve()));
    this.closed = Promise.all([closed(client), closed(server)]).then(() => undefined);
  }

  private pipe(from: net.Socket, to: net.Socket, dir: Direction): void {
    from.on('data', (chunk: Buffer) => {
      let data = chunk;
      if (this.silent[dir]) {
        this.dropped[dir] += data.length;
        data = data.subarray(data.length);
      } else if (this.toDrop[dir] > 0) {
        const n = Math.min(this.toDrop[dir], data.length);
        this.toDrop[dir] -= n;
        this.dropped[dir] += n;
        data = data.subarray(n);
      }
      if (data.length > 0) {
        this.forwarded[dir] += data.length;
        to.write(data);
      }
      this.notify();
    });
    // A FIN is passed on unless the connection is silent (a dead network carries no FIN either).
    from.on('end', () => {
      if (!this.silent[dir]) to.end();
    });
    from.on('error', () => to.destroy());
    from.on('close', () => {
      if (!this.silent[dir]) to.destroy();
      this.notify();
    });
  }

  private notify(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /** Resolves once `cond` holds, checked whenever bytes move or a socket closes. */
  async until(cond: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!cond()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('proxy: timed out waiting for ' + what);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Stops forwarding (both ways unless a direction is given); the sockets stay open. */
  silence(dir?: Direction): void {
    if (dir !== 'toClient') this.silent.toServer = true;
    if (dir !== 'toServer') this.silent.toClient = true;
  }

  /** Forwards again. */
  resume(dir?: Direction): void {
    if (dir !== 'toClient') this.silent.toServer = false;
    if (dir !== 'toServer') this.silent.toClient = false;
  }

  /** Discards the next `bytes` bytes going one way, then forwards again. */
  drop(dir: Direction, bytes: number): void {
    this.toDrop[dir] += bytes;
  }

  /** Closes both sides cleanly (FIN). */
  cut(): void {
    this.client.end();
    this.server.end();
  }

  /** Resets both sides (RST). */
  reset(): void {
    this.client.resetAndDestroy();
    this.server.resetAndDestroy();
  }
}

export class TcpProxy {
  readonly connections = new Set<ProxiedConnection>();
  private readonly waiting: ((c: ProxiedConnection) => void)[] = [];

  private constructor(
    private readonly listener: net.Server,
    readonly port: number,
  ) {}

  /** A proxy on 127.0.0.1 (a free port) to `targetPort` on `targetHost`. */
  static async start(targetPort: number, targetHost = '127.0.0.1'): Promise<TcpProxy> {
    const listener = net.createServer();
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    const proxy = new TcpProxy(listener, (listener.address() as net.AddressInfo).port);
    listener.on('connection', (client) => {
      client.pause();
      const server = net.connect(targetPort, targetHost);
      server.on('error', () => client.destroy());
      client.on('error', () => server.destroy());
      server.once('connect', () => {
        const pc = new ProxiedConnection(client, server);
        proxy.connections.add(pc);
        void pc.closed.then(() => proxy.connections.delete(pc));
        client.resume();
        const w = proxy.waiting.shift();
        if (w !== undefined) w(pc);
      });
    });
    return proxy;
  }

  /** `http://127.0.0.1:<port>` */
  get url(): string {
    return 'http://127.0.0.1:' + this.port;
  }

  /** Resolves with the next connection the proxy makes (call before the client connects). */
  nextConnection(): Promise<ProxiedConnection> {
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  silence(dir?: Direction): void {
    for (const c of this.connections) c.silence(dir);
  }

  resume(dir?: Direction): void {
    for (const c of this.connections) c.resume(dir);
  }

  cut(): void {
    for (const c of this.connections) c.cut();
  }

  reset(): void {
    for (const c of this.connections) c.reset();
  }

  /** Stops listening and destroys every connection. */
  async close(): Promise<void> {
    for (const c of this.connections) {
      c.client.destroy();
      c.server.destroy();
    }
    await new Promise<void>((resolve) => this.listener.close(() => resolve()));
  }
}
