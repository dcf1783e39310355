/**
 * A resume on this process of a connection another process held (cross-process recovery,
 * docs/recovery.md "Across processes"): the pending link takes the connection's id, rooms and
 * log position from the store, then gets what its client missed from the log.
 */
import type { Link } from './link.js';
import type { Takeover } from './remote.js';

/** `link` (pending) takes over `t`; the client had received `recv`, had `confirmed` of its `sent` confirmed. */
export function takeOver(link: Link, t: Takeover, recv: number, confirmed: number, sent: number, token: () => string): void {
  const remote = link.remote!;
  const conn = link.conn;
  link.pending = false;
  (conn as unknown as { id: string }).id = t.state.id;
  remote.adopt(link);
  const log = link.log!;
  const versions = t.state.r;
  log.versions = versions;
  log.g = versions[versions.length - 1]![0];
  log.direct = t.state.d;
  log.counting = null;
  for (const room of versions[versions.length - 1]![2]) link.host.rooms.join(conn, room);
  link.out.startAt(recv);
  link.confirmed = recv;
  // What the old process delivered, as far as it saved it; the client sends the rest again.
  link.received = Math.min(Math.max(confirmed, t.state.n), sent);
  link.welcome(token(), true, undefined, { moved: true, direct: t.state.d === 1 });
  for (const r of t.replay) remote.replay(link, r.before, r.packet);
  link.route();
  link.host.connectionOpened(conn, link.transport);
  conn.emit('resume', { moved: true, replayed: t.replay.length, resent: sent - link.received, directMayBeLost: t.state.d === 1 });
}
