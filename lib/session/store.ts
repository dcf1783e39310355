/**
 * The sessions of one service that clients can reach by id (all HTTP transports). Websocket
 * sessions are 1:1 with their socket and never enter it. Expiry lives in each session's own
 * timer (session.ts); the store only maps ids to sessions.
 */
import type { Session } from './session.js';

export class SessionStore {
  private readonly byId = new Map<string, Session>();

  get size(): number {
    return this.byId.size;
  }

  get(id: string): Session | undefined {
    return this.byId.get(id);
  }

  add(id: string, session: Session): void {
    this.byId.set(id, session);
  }

  /** Removes the session only if the id still points at it. */
  delete(id: string, session: Session): void {
    if (this.byId.get(id) === session) this.byId.delete(id);
  }

  values(): IterableIterator<Session> {
    return this.byId.values();
  }
}
