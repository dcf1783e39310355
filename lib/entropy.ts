/**
 * Random bytes for a service, drawn from a pooled buffer: one randomFillSync() call serves many
 * `/info` answers and resume credentials (a call per credential cost more than the rest of
 * issuing it). Each byte is handed out once; a credential's bytes are wiped from the pool once
 * encoded.
 */
import { randomFillSync } from 'node:crypto';

const POOL = 4096;

export class EntropyPool {
  private readonly pool = randomFillSync(Buffer.alloc(POOL));
  private offset = 0;

  private take(n: number): number {
    if (this.offset + n > POOL) {
      randomFillSync(this.pool);
      this.offset = 0;
    }
    const at = this.offset;
    this.offset += n;
    return at;
  }

  /** A uniformly random integer in [0, 2^32 - 1]. */
  next(): number {
    return this.pool.readUInt32BE(this.take(4));
  }

  /** `bytes` (at most 4096) fresh random bytes as base64url text, for secrets. */
  secret(bytes: number): string {
    const at = this.take(bytes);
    const text = this.pool.toString('base64url', at, at + bytes);
    this.pool.fill(0, at, at + bytes);
    return text;
  }
}
