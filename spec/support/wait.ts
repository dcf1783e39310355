/**
 * The one polling wait of the test suite: for a condition that no event announces (a counter, a
 * list filled by listeners). Prefer awaiting the event itself where there is one.
 */

/**
 * Polls `cond` every few milliseconds until it holds; throws naming `what` after `timeoutMs`,
 * which is generous because a loaded machine may run the server's side late. `cond` may ask
 * another process (it is awaited); `what` may be a function, to say how far it got.
 */
export async function waitUntil(cond: () => boolean | Promise<boolean>, what: string | (() => string), timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > until) throw new Error('timed out waiting for: ' + (typeof what === 'string' ? what : what()));
    await new Promise((r) => setTimeout(r, 5));
  }
}
