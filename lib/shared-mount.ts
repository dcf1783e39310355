/**
 * Two SockJS routers mounted at one path: the first answers every SockJS URL there, so the second
 * never gets a connection. Nothing at mount time tells a Router where it was mounted, so each
 * router looks, on its first request, at the router stack it sits in (Express 4 and 5 apps).
 */
import type { IncomingMessage } from 'node:http';
import { layerStack } from './internals.js';
import { registries } from './registry.js';

const { routers, warnedMounts: warned } = registries;

interface Layer {
  handle?: unknown;
  /** Express 5 (router 2). */
  rawPath?: unknown;
  /** Express 4. */
  regexp?: RegExp;
  /** Connect. */
  route?: unknown;
}

function stackOf(handler: unknown): Layer[] | undefined {
  return layerStack(handler) as Layer[] | undefined;
}

/** The stack holding `target`, searched depth-first from `handler`'s. */
function stackHolding(handler: unknown, target: object, depth = 0): Layer[] | undefined {
  const stack = stackOf(handler);
  if (stack === undefined || depth > 8) return undefined;
  if (stack.some((l) => l.handle === target)) return stack;
  for (const l of stack) {
    if (l.handle === handler) continue;
    const found = stackHolding(l.handle, target, depth + 1);
    if (found !== undefined) return found;
  }
  return undefined;
}

function mountKey(l: Layer): string | undefined {
  if (l.rawPath !== undefined) return String(l.rawPath);
  if (l.regexp instanceof RegExp) return l.regexp.source + '/' + l.regexp.flags;
  return typeof l.route === 'string' ? l.route : undefined;
}

/** Emits a process warning when another sockjs-express router sits at this router's mount path. */
export function warnIfMountShared(router: object, req: IncomingMessage): void {
  const app = (req as { app?: unknown }).app;
  const stack = stackHolding(app, router);
  if (stack === undefined || warned.has(router)) return;
  const own = stack.find((l) => l.handle === router)!;
  const key = mountKey(own);
  const others = stack.filter((l) => l.handle !== router && routers.has(l.handle as object) && mountKey(l) === key);
  if (key === undefined || others.length === 0) return;
  warned.add(router);
  for (const l of others) warned.add(l.handle as object);
  const at = (req as { baseUrl?: string }).baseUrl || '/';
  process.emitWarning(
    `${others.length + 1} sockjs-express routers are mounted at ${JSON.stringify(at)}: the first one answers every SockJS URL there, ` +
      'so the others never get a connection. Mount each service at its own path (app.use(\'/chat\', chat); app.use(\'/news\', news)), ' +
      'or listen on one router\'s \'connection\' event for both.',
    { code: 'SOCKJS_EXPRESS_SHARED_MOUNT' },
  );
}
