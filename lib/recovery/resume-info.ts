/** What `resume` tells the application (docs/recovery.md). */
export interface ResumeInfo {
  /** The connection came back on this process from another one (whose direct writes and unconfirmed client messages may be lost or repeated). */
  moved: boolean;
  /** Messages to the client sent again: from the replay buffer, or (moved) room and broadcast messages from the log. */
  replayed: number;
  /** Moved: client messages the client sends again that the old process may already have delivered (they will be delivered again). */
  resent: number;
  /** Moved: the old process wrote directly to this connection at least once, and what it wrote after the client's last message is lost. */
  directMayBeLost: boolean;
}
