/** `GET /`: the greeting, which tells a human (or a health check) that SockJS lives here. */
import type { ServerResponse } from 'node:http';
import { TEXT, sendBody } from './respond.js';

export function greeting(res: ServerResponse): void {
  sendBody(res, 200, TEXT, 'Welcome to SockJS!\n');
}
