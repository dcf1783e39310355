// TEMPORARY STUB (lead): replaced by the real module.
import { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
export function isHixie76Request(_req: IncomingMessage): boolean { return false; }
export class Hixie76Socket extends EventEmitter {
  readyState = 0;
  bufferedAmount = 0;
  constructor(_req: IncomingMessage, _socket: Duplex, _head: Buffer, _opts?: { maxMessageSize?: number }) { super(); }
  send(_t: string): boolean { return false; }
  close(): void {}
  terminate(): void {}
}
