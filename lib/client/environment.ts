/**
 * Browser signals the client reacts to: going offline and online, and the page becoming visible.
 * Outside a browser (Node) there are none and these do nothing.
 */
interface EventTargetLike {
  addEventListener(type: string, listener: () => void): void;
  removeEventListener(type: string, listener: () => void): void;
}

interface BrowserGlobals {
  navigator?: { onLine?: boolean };
  document?: EventTargetLike & { visibilityState?: string };
  addEventListener?: EventTargetLike['addEventListener'];
  removeEventListener?: EventTargetLike['removeEventListener'];
}

const g = globalThis as BrowserGlobals;

/** False only when the browser says it has no network. */
export function isOnline(): boolean {
  return g.navigator?.onLine !== false;
}

/** Calls `wake` when the browser comes back online or the page becomes visible; returns the function that stops it. */
export function watchEnvironment(wake: (why: 'online' | 'visible') => void): () => void {
  if (typeof g.addEventListener !== 'function' || g.document === undefined) return () => {};
  const online = (): void => wake('online');
  const visible = (): void => {
    if (g.document?.visibilityState === 'visible') wake('visible');
  };
  g.addEventListener('online', online);
  g.document.addEventListener('visibilitychange', visible);
  return () => {
    g.removeEventListener?.('online', online);
    g.document?.removeEventListener('visibilitychange', visible);
  };
}
