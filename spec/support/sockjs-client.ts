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
