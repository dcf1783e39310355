/**
 * The recovery registry of one service: which requests speak recovery, the carriers made for
 * them, the hello that opens or resumes a link, and the resume credentials.
 *
 * A credential is `key.secret`: the key (16 random bytes) finds the link, the secret (32 random
 * bytes) is compared in constant time. Each welcome issues a new secret; the one the client
 * resumed with stays good until the client shows it read the welcome (its first message after
 * it other than a repeated hello), so welcomes lost on the way, however many in a row, do not
 * strand the client, and a credential is spent once its successor is known to have arrived.
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { RecoveryOptions, TransportName } from '../options.js';
import type { Connection } from '../connection.js';
import type { Service } from '../service.js';
import { Carrier } from './carrier.js';
import { Link } from './link.js';
import { hashSecret, parseCredential, RemoteRecovery } from './remote.js';
import { takeOver } from './takeover.js';
import type { RecoveryStore } from './store.js';
import { ackCadence, count, queryValue, RECOVERY_PARAM, RECOVERY_VERSION, type HelloMessage } from './wire.js';


export class Recovery {
  /** Links by credential key: open ones and parked ones (each holds its secrets). */
  private readonly links = new Map<string, Link>();
  /** The other process's key of links taken over whose client may not have its new credential yet (issue()). */
  private readonly movedKeys = new Map<Link, string>();
  /** Links waiting for their client's hello. */
  private readonly pending = new Set<Link>();
  /** Links without a carrier, waiting for their client to resume; oldest first. */
  private readonly parked = new Set<Link>();

  /** Recovery across processes, when the adapter has a store (sockjs-express/redis). */
  readonly remote: RemoteRecovery | null;
  /** The acknowledgement cadence every welcome asks of the client. */
  readonly cadence: { ack: number; ack_chars: number };

  constructor(
    private readonly service: Service,
    readonly options: Required<RecoveryOptions>,
    store: RecoveryStore | null,
  ) {
    this.remote = store !== null ? new RemoteRecovery(service, this, store) : null;
    this.cadence = ackCadence(options.max_messages, options.max_bytes);
  }

  /** Whether the client asked for recovery: `sockjs-recovery=1` in the query of its URL. */
  requested(req: IncomingMessage, protocol: TransportName): boolean {
    return protocol !== 'websocket-raw' && queryValue(req.url ?? '', RECOVERY_PARAM) === '1';
  }

  /** A session for a client that speaks recovery, with a pending link and its connection. */
  carrier(sessionId: string | null, transport: number, connect: (link: Link) => Connection): Carrier {
    const carrier = new Carrier(sessionId, this.service, transport);
    const link = new Link(this.service, this, carrier, transport);
    link.conn = connect(link);
    carrier.carry(link);
    carrier.connection = link.conn;
    this.pending.add(link);
    return carrier;
  }

  /** The client's first message on `carrier`, whose pending link is `fresh`. */
  hello(fresh: Link, carrier: Carrier, hello: HelloMessage): void {
    this.pending.delete(fresh);
    if (typeof hello.v !== 'number' || !(hello.v >= 1)) {
      // hello.v is the highest version the client speaks; the welcome says which one is used.
      carrier.close(3400, 'Bad recovery message', 'client');
      return;
    }
    fresh.version = Math.min(Math.floor(hello.v), RECOVERY_VERSION);
    if (typeof hello.resume !== 'string') {
      this.openNew(fresh);
      return;
    }
    const found = this.find(hello.resume);
    const recv = count(hello.recv);
    if (found === null && this.remote !== null && fresh.version >= 2) {
      this.resumeMoved(fresh, carrier, hello);
      return;
    }
    if (found === null || found.link.state !== 1 || found.link.pending) {
      this.openNew(fresh, 'unknown');
      return;
    }
    const old = found.link;
    if (recv === undefined || !old.out.holds(recv)) {
      // What the client missed is gone: the old connection cannot come back, so it ends now.
      old.close(1006, 'Recovery buffer full', 'limit');
      this.openNew(fresh, 'gap');
      return;
    }
    // The fresh link never opened; the carrier moves to the old one.
    fresh.state = 3;
    old.resume(carrier, recv, this.issue(old, found.presented));
  }

  private openNew(fresh: Link, reason?: 'unknown' | 'gap'): void {
    const remote = this.remote;
    if (remote !== null && fresh.version >= 2 && remote.cursor === '') {
      // The store is still connecting: the connection's start position is not known yet.
      fresh.resuming = true;
      const carrier = fresh.carrier;
      const later = (): void => {
        fresh.resuming = false;
        if (fresh.state === 1 && fresh.pending && fresh.carrier === carrier) this.openNew(fresh, reason);
      };
      remote.store.whenReady().then(later, (err: unknown) => {
        this.service.adapterError(err instanceof Error ? err : new Error(String(err)));
        // Without the store, the connection is one of this process only.
        fresh.version = 1;
        later();
      });
      return;
    }
    if (remote !== null && fresh.version >= 2) remote.adopt(fresh);
    fresh.openNew(this.issue(fresh), reason);
  }

  /** A resume for a connection another process held: looked up in the store, asynchronously. */
  private resumeMoved(fresh: Link, carrier: Carrier, hello: HelloMessage): void {
    const remote = this.remote!;
    const recv = count(hello.recv);
    const confirmed = count(hello.c);
    const sent = count(hello.n);
    fresh.resuming = true;
    const found = recv === undefined || confirmed === undefined || sent === undefined || confirmed > sent
      ? Promise.resolve('unknown' as const)
      : remote.find(hello, this.options.max_messages);
    found.catch((err: unknown) => {
      this.service.adapterError(err instanceof Error ? err : new Error(String(err)));
      return 'unknown' as const;
    }).then((t) => {
      fresh.resuming = false;
      if (fresh.state !== 1 || !fresh.pending || fresh.carrier !== carrier) {
        // The client went away meanwhile: what was taken goes back for its next try.
        if (typeof t === 'object') remote.store.save(parseCredential(hello.resume)!.key, t.state, true);
        return;
      }
      this.pending.delete(fresh);
      if (typeof t === 'string') this.openNew(fresh, t);
      else {
        // If this welcome is lost, the client's next try with the same credential finds the
        // connection here (the store's copy was spent by the claim).
        const { key, secret } = parseCredential(hello.resume)!;
        takeOver(fresh, t, recv!, confirmed!, sent!, () => this.issue(fresh, secret.toString('base64url'), key));
      }
    }).catch((err: unknown) => this.service.adapterError(err instanceof Error ? err : new Error(String(err))));
  }

  /** The SHA-256 of a link's secrets, as the store keeps them. */
  secretsOf(link: Link): { h: string; p: string | null } | null {
    if (link.secret === '' || this.links.get(link.key) !== link) return null;
    return { h: hashSecret(Buffer.from(link.secret, 'base64url')), p: link.previous !== null ? hashSecret(Buffer.from(link.previous, 'base64url')) : null };
  }

  /**
   * A new credential for `link`: same key, new secret. `presented` is the secret the client resumed
   * with (null for a new connection): it stays the one before, whatever was issued in between.
   * `moved` is the key a connection taken over from another process had there: it finds the link
   * here too, until the client shows it has the new credential.
   */
  private issue(link: Link, presented: string | null = null, moved = ''): string {
    // Kept as text: a Buffer would cost an ArrayBuffer and its backing store per idle connection.
    const secret = this.service.entropy.secret(32);
    const known = link.key !== '' && this.links.get(link.key) === link;
    if (!known) {
      link.key = this.service.entropy.secret(16);
      this.links.set(link.key, link);
      if (moved !== '' && !this.links.has(moved)) {
        this.links.set(moved, link);
        this.movedKeys.set(link, moved);
      }
    }
    link.previous = presented;
    link.secret = secret;
    link.unconfirmedToken = true;
    if (link.log !== null) this.remote!.save(link, !known);
    return link.key + '.' + secret;
  }

  /** The client sent something after its welcome: it has the new credential, the old one dies. */
  confirmed(link: Link): void {
    link.unconfirmedToken = false;
    link.welcomeAgain = null;
    link.previous = null;
    this.dropMovedKey(link);
    if (link.log !== null) this.remote!.save(link, false);
  }

  /** The link a credential resumes, and the secret it gave (canonical text). */
  private find(token: string): { link: Link; presented: string } | null {
    const credential = parseCredential(token);
    if (credential === null) return null;
    const link = this.links.get(credential.key);
    if (link === undefined || link.secret === '') return null;
    const given = credential.secret;
    const secret = Buffer.from(link.secret, 'base64url');
    if (given.length !== secret.length) return null;
    // Both compared, always: the time taken says nothing about which one matched.
    const current = timingSafeEqual(given, secret);
    const previous = link.previous !== null && timingSafeEqual(given, Buffer.from(link.previous, 'base64url'));
    return current || previous ? { link, presented: given.toString('base64url') } : null;
  }


  /**
   * `link` lost its carrier and waits for its client. Parked links hold no session (so they do not
   * count toward max_sessions), only their replay buffer: `max_parked` bounds how many there are.
   */
  park(link: Link): void {
    this.parked.add(link);
    if (this.parked.size <= this.options.max_parked) return;
    const oldest = this.parked.values().next().value!;
    oldest.close(1006, 'Too many parked connections', 'limit');
  }

  /** `link` has a carrier again. */
  unpark(link: Link): void {
    this.parked.delete(link);
  }

  /** The link ended: its credential and pending or parked entry go (in the store too, unless the server is shutting down). */
  forget(link: Link, shutdown: boolean): void {
    this.pending.delete(link);
    this.parked.delete(link);
    this.remote?.forget(link, shutdown);
    if (link.key !== '' && this.links.get(link.key) === link) this.links.delete(link.key);
    this.dropMovedKey(link);
  }

  private dropMovedKey(link: Link): void {
    const moved = this.movedKeys.get(link);
    if (moved === undefined) return;
    this.movedKeys.delete(link);
    if (this.links.get(moved) === link) this.links.delete(moved);
  }

  /** Closes links still waiting for a hello (open and parked ones are in the service's connections). */
  shutdown(code: number, reason: string): void {
    for (const link of [...this.pending]) link.close(code, reason, 'shutdown');
  }

  close(): Promise<void> {
    return this.remote !== null ? this.remote.close() : Promise.resolve();
  }
}
