/**
 * Where a version-2 link stands in the shared log (cross-process recovery, remote.ts). Only links
 * whose clients speak version 2 to a service with a store have one, so a plain recovering link
 * carries a single null field for all of it.
 */
import type { RoomsVersion } from './store.js';

export class LogState {
  /** Whether the client counts room and broadcast messages now (null: unknown, the next message says). */
  counting: boolean | null = true;
  /** The rooms version. */
  g = 0;
  /** 1 once the application wrote directly. */
  direct: 0 | 1 = 0;
  /** The link's `received` when the state was last saved. */
  saved = 0;

  constructor(
    /** The last rooms versions with where they began in the log, oldest first. */
    public versions: RoomsVersion[],
  ) {}
}
