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

export const SockJS = createRequire(import.meta.url)('sockjs-client') as SockJSCtor;
