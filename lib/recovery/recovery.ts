/**
 * The recovery registry of one service: which requests speak recovery, the carriers made for
 * them, the hello that opens or resumes a link, and the resume credentials.
 *
 * A credential is `key.secret`: the key (16 random bytes) finds the link, the secret (32 random
 * bytes) is compared in constant time. Each welcome issues a new one and the old one stops
 * working, so a credential is good for one resume only.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { RecoveryOptions, TransportName } from '../options.js';
import type { Connection } from '../connection.js';
import type { Service } from '../service.js';
import { Carrier, CarrierHost } from './carrier.js';
import { Link } from './link.js';
import { count, RECOVERY_PARAM, type HelloMessage } from './wire.js';

const FLAG = RECOVERY_PARAM + '=1';

interface Entry {
  link: Link;
  secret: Buffer;
}

export class Recovery {
  private readonly carrierHost: CarrierHost;
  /** Links by credential key: open ones and parked ones. */
  private readonly links = new Map<string, Entry>();
  /** Links waiting for their client's hello. */
  private readonly pending = new Set<Link>();

  constructor(
    private readonly service: Service,
    readonly options: Required<RecoveryOptions>,
  ) {
    this.carrierHost = new CarrierHost(service);
  }

  /** Whether the client asked for recovery: `sockjs-recovery=1` in the query of its URL. */
  requested(req: IncomingMessage, protocol: TransportName): boolean {
    const url = req.url ?? '';
    const q = url.indexOf('?');
    if (q === -1 || protocol === 'websocket-raw') return false;
    return ('&' + url.slice(q + 1) + '&').includes('&' + FLAG + '&');
  }

  /** A session for a client that speaks recovery, with a pending link and its connection. */
  carrier(sessionId: string | null, transport: number, connect: (link: Link) => Connection): Carrier {
    const carrier = new Carrier(sessionId, this.carrierHost, transport);
    const link = new Link(this.service, this, carrier, transport);
    link.conn = connect(link);
    carrier.link = link;
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
    if (typeof hello.resume !== 'string') {
      fresh.openNew(this.issue(fresh));
      return;
    }
    const entry = this.find(hello.resume);
    const recv = count(hello.recv);
    if (entry === null || entry.link.state !== 1 || entry.link.pending) {
      fresh.openNew(this.issue(fresh), 'unknown');
      return;
    }
    const old = entry.link;
    if (recv === undefined || !old.out.holds(recv)) {
      // What the client missed is gone: the old connection cannot come back, so it ends now.
      old.close(1006, 'Recovery buffer full', 'limit');
      fresh.openNew(this.issue(fresh), 'gap');
      return;
    }
    // The fresh link never opened; the carrier moves to the old one.
    fresh.state = 3;
    old.resume(carrier, recv, this.issue(old));
  }

  /** A new credential for `link`; the one it had stops working. */
  private issue(link: Link): string {
    if (link.key !== '') this.links.delete(link.key);
    const key = randomBytes(16).toString('base64url');
    const secret = randomBytes(32);
    link.key = key;
    this.links.set(key, { link, secret });
    return key + '.' + secret.toString('base64url');
  }

  private find(token: string): Entry | null {
    const dot = token.indexOf('.');
    if (dot === -1 || token.length > 200) return null;
    const entry = this.links.get(token.slice(0, dot));
    if (entry === undefined) return null;
    const given = Buffer.from(token.slice(dot + 1), 'base64url');
    return given.length === entry.secret.length && timingSafeEqual(given, entry.secret) ? entry : null;
  }

  /** The link ended: its credential and pending entry go. */
  forget(link: Link): void {
    this.pending.delete(link);
    if (link.key !== '' && this.links.get(link.key)?.link === link) this.links.delete(link.key);
  }

  /** Closes links still waiting for a hello (open and parked ones are in the service's connections). */
  shutdown(code: number, reason: string): void {
    for (const link of [...this.pending]) link.close(code, reason, 'shutdown');
  }
}
