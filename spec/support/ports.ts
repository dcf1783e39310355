/** Free ports and listeners on 127.0.0.1, for tests that start other processes (redis-server, servers). */
import net from 'node:net';

/** A port nothing listens on right now. */
export async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const p = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return p;
}

/** Whether something accepts connections on `port`. */
export function canConnect(port: number): Promise<boolean> {
  return new Promise((res) => {
    const c = net.connect(port, '127.0.0.1', () => (c.destroy(), res(true)));
    c.on('error', () => res(false));
  });
}
