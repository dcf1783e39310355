/**
 * Named groups of connections within one service. Memberships live here, not on connections,
 * so a connection in no room costs nothing; a closing connection leaves all of its rooms.
 */
import type { Connection } from './connection.js';

export class Rooms {
  private readonly members = new Map<string, Set<Connection>>();
  private readonly joined = new Map<Connection, Set<string>>();

  join(conn: Connection, room: string): void {
    let set = this.members.get(room);
    if (set === undefined) this.members.set(room, (set = new Set()));
    set.add(conn);
    let rooms = this.joined.get(conn);
    if (rooms === undefined) this.joined.set(conn, (rooms = new Set()));
    rooms.add(room);
  }

  leave(conn: Connection, room: string): void {
    const set = this.members.get(room);
    if (set !== undefined) {
      set.delete(conn);
      if (set.size === 0) this.members.delete(room);
    }
    const rooms = this.joined.get(conn);
    if (rooms !== undefined) {
      rooms.delete(room);
      if (rooms.size === 0) this.joined.delete(conn);
    }
  }

  leaveAll(conn: Connection): void {
    const rooms = this.joined.get(conn);
    if (rooms === undefined) return;
    for (const room of rooms) this.leave(conn, room);
  }

  roomsOf(conn: Connection): ReadonlySet<string> {
    return this.joined.get(conn) ?? EMPTY;
  }

  membersOf(room: string): ReadonlySet<Connection> {
    return this.members.get(room) ?? EMPTY_CONNS;
  }

  /** Rooms with at least one member. */
  get size(): number {
    return this.members.size;
  }

  names(): IterableIterator<string> {
    return this.members.keys();
  }
}

const EMPTY: ReadonlySet<string> = new Set();
const EMPTY_CONNS: ReadonlySet<Connection> = new Set();
