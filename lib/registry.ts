/**
 * The process-wide registries, the only state this package keeps outside its services. They are
 * kept under a global symbol, so every copy of the package loaded in one process (the ESM and
 * the CommonJS build side by side, or two installs of one version) shares them: one upgrade hook
 * per server, whichever copy installed it, and each copy's routes find the handshakes the other's
 * hook took in. Bump the key's version if the shape of an entry changes.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';

/** A websocket handshake the upgrade hook sent through the app, waiting for its route. */
export interface PendingUpgrade {
  readonly socket: Duplex;
  readonly head: Buffer;
  readonly res: ServerResponse;
  claimed: boolean;
}

export type UpgradeListener = (req: IncomingMessage, socket: Duplex, head: Buffer) => void;

export interface Registries {
  /** Handshake request → its socket, from the hook to the websocket route. */
  readonly pendingUpgrades: WeakMap<IncomingMessage, PendingUpgrade>;
  /** Server → the hook installed on it. */
  readonly upgradeHooks: WeakMap<object, UpgradeListener>;
  /** Every router sockjs() made, to recognise them in an app's stack (the shared-mount warning). */
  readonly routers: WeakSet<object>;
  /** Routers already warned about sharing a mount path: one mistake, one warning. */
  readonly warnedMounts: WeakSet<object>;
  /** Request → its id in log lines, and the counter ids are made from. */
  readonly requestIds: WeakMap<IncomingMessage, string>;
  requestCount: number;
}

const KEY = Symbol.for('sockjs-express.registries.v1');

function shared(): Registries {
  const g = globalThis as { [KEY]?: Registries };
  return (g[KEY] ??= {
    pendingUpgrades: new WeakMap(),
    upgradeHooks: new WeakMap(),
    routers: new WeakSet(),
    warnedMounts: new WeakSet(),
    requestIds: new WeakMap(),
    requestCount: 0,
  });
}

export const registries: Registries = shared();
