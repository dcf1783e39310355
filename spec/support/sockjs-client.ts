/** sockjs-client (npm) in Node, typed: the part of its socket that tests use. */
import { createRequire } from 'node:module';

export interface ClientSock {
  transport: string;
  readyState: number;
  onopen: (() => void) | null;
  onmessage: ((e: { data: string }) => void) | null;
  onclose: ((e: { code: number; reason: string }) => void) | null;
  send(data: string): void;
  close(): void;
}

export type SockJSCtor = new (url: string, protocols: null, opts: { transports: string[]; timeout?: number }) => ClientSock;

const RealSockJS = createRequire(import.meta.url)('sockjs-client') as SockJSCtor;

/**
 * sockjs-client with a 10 s floor on the time a transport gets to open (unless `timeout` is
 * given): its default, a few round trips of the /info RTT, is too short on a saturated machine
 * (2000 "All transports failed").
 */
export const SockJS = function SockJS(url: string, protocols: null, opts: { transports: string[]; timeout?: number }): ClientSock {
  return new RealSockJS(url, protocols, { timeout: 10_000, ...opts });
} as unknown as SockJSCtor;

/** The transports sockjs-client has outside a browser. */
export const NODE_TRANSPORTS = ['websocket', 'xhr-streaming', 'xhr-polling', 'eventsource'];

/** A sockjs-client socket on `url` limited to `transports`, once open. */
export function open(url: string, transports: string | string[]): Promise<ClientSock> {
  return new Promise((resolve, reject) => {
    const sock = new SockJS(url, null, { transports: Array.isArray(transports) ? transports : [transports] });
    sock.onopen = () => resolve(sock);
    sock.onclose = (e) => reject(new Error(`closed before open: ${e.code} ${e.reason}`));
  });
}

/** The next `n` messages `sock` receives (fails after 10 s). */
export function collect(sock: ClientSock, n: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const got: string[] = [];
    const t = setTimeout(() => reject(new Error(`only ${got.length} of ${n} messages`)), 10000);
    sock.onmessage = (e) => {
      got.push(e.data);
      if (got.length === n) {
        clearTimeout(t);
        resolve(got);
      }
    };
  });
}

/** How `sock` closes. */
export function closed(sock: ClientSock): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) => {
    sock.onclose = (e) => resolve({ code: e.code, reason: e.reason });
  });
}
