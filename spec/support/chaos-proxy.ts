/**
 * A TCP proxy for recovery tests that breaks connections on purpose: it cuts every connection at
 * once, cuts random ones at random moments (mid-frame too: part of a chunk goes through, then
 * both sides are reset), and drops the tail of a completed HTTP response (the chunk that ends a
 * chunked response, with the one before it) while resetting the client's side, which leaves the
 * server believing it delivered everything.
 */
import net from 'node:net';

export interface ChaosProxy {
  readonly port: number;
  /** Connections cut so far (any way). */
  readonly cuts: number;
  /** Resets every open connection now. */
  cutAll(): void;
  /** Cuts one random open connection every `minMs`–`maxMs` ms, half of them in the middle of a chunk. */
  startChaos(minMs: number, maxMs: number): void;
  stopChaos(): void;
  /** While true, new connections are reset as soon as they arrive (the server looks unreachable). */
  refuse: boolean;
  /** The next HTTP response to complete loses its last bytes and the client's connection is reset; resolves when that happened. */
  dropNextTail(): Promise<void>;
  close(): Promise<void>;
}

interface Pair {
  client: net.Socket;
  server: net.Socket;
  /** Cut after forwarding this many bytes of the next server chunk (-1: not armed). */
  cutWithin: number;
  held: Buffer | null;
}

const END_OF_CHUNKED = Buffer.from('0\r\n\r\n');

export async function startChaosProxy(targetPort: number, random: () => number = Math.random): Promise<ChaosProxy> {
  const pairs = new Set<Pair>();
  let cuts = 0;
  let chaos: NodeJS.Timeout | null = null;
  let tail: (() => void) | null = null;

  const cut = (p: Pair): void => {
    if (!pairs.delete(p)) return;
    cuts++;
    p.client.resetAndDestroy();
    p.server.resetAndDestroy();
  };

  const server = net.createServer((client) => {
    if (proxy.refuse) {
      client.resetAndDestroy();
      return;
    }
    const upstream = net.connect(targetPort, '127.0.0.1');
    const p: Pair = { client, server: upstream, cutWithin: -1, held: null };
    pairs.add(p);
    client.on('data', (d) => upstream.write(d));
    upstream.on('data', (d: Buffer) => {
      if (!pairs.has(p)) return;
      if (tail !== null) {
        // Held back one chunk, so that the response's last data goes with its terminator.
        const done = d.length >= END_OF_CHUNKED.length && d.subarray(d.length - END_OF_CHUNKED.length).equals(END_OF_CHUNKED);
        if (done) {
          const resolve = tail;
          tail = null;
          p.held = null;
          cut(p);
          resolve();
          return;
        }
        if (p.held !== null) client.write(p.held);
        p.held = d;
        return;
      }
      if (p.held !== null) {
        client.write(p.held);
        p.held = null;
      }
      if (p.cutWithin >= 0) {
        client.write(d.subarray(0, Math.min(p.cutWithin, d.length - 1)));
        cut(p);
        return;
      }
      client.write(d);
    });
    const end = (): void => {
      if (!pairs.delete(p)) return;
      if (p.held !== null) client.write(p.held);
      client.end();
      upstream.end();
    };
    client.on('end', end);
    upstream.on('end', end);
    client.on('error', () => cut(p));
    upstream.on('error', () => cut(p));
    // A side gone without an end (the browser dropped its socket) takes its partner with it, or
    // the server would keep a session open that no cut can reach.
    client.on('close', () => {
      if (pairs.delete(p)) upstream.destroy();
    });
    upstream.on('close', () => {
      if (pairs.delete(p)) client.destroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;

  const tick = (minMs: number, maxMs: number): void => {
    chaos = setTimeout(() => {
      const list = [...pairs];
      if (list.length > 0) {
        const p = list[Math.floor(random() * list.length)]!;
        if (random() < 0.5) cut(p);
        else p.cutWithin = 1 + Math.floor(random() * 200);
      }
      tick(minMs, maxMs);
    }, minMs + random() * (maxMs - minMs));
  };

  const proxy: ChaosProxy = {
    refuse: false,
    port,
    get cuts() {
      return cuts;
    },
    cutAll() {
      for (const p of [...pairs]) cut(p);
    },
    startChaos(minMs, maxMs) {
      if (chaos === null) tick(minMs, maxMs);
    },
    stopChaos() {
      if (chaos !== null) clearTimeout(chaos);
      chaos = null;
    },
    dropNextTail() {
      return new Promise<void>((resolve) => {
        tail = resolve;
      });
    },
    close() {
      this.stopChaos();
      for (const p of [...pairs]) cut(p);
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return proxy;
}
