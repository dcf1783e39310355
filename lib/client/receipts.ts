/**
 * The companion client's count of the server's application messages, and its acknowledgements of
 * them: at once every `every` messages or `everyChars` characters (the welcome's cadence), else
 * ACK_DELAY ms after the first one not yet acknowledged. The server lets go of what is
 * acknowledged (docs/recovery.md).
 */
import { ACK_EVERY } from '../recovery/wire.js';

const ACK_DELAY = 1000;

export class Receipts {
  /** Messages received on this connection. */
  count = 0;
  /** `count` when last acknowledged. */
  private acked = 0;
  /** Characters of the messages since the last ack. */
  private chars = 0;
  private every = ACK_EVERY;
  private everyChars = Infinity;
  private timer: ReturnType<typeof setTimeout> | null = null;

  /** `send` sends an ack for `recv` messages and says whether it could (a session open for it). */
  constructor(private readonly send: (recv: number) => boolean) {}

  /** The cadence a welcome asks for (a server before it names none: every ACK_EVERY messages). */
  cadence(every: number | undefined, everyChars: number | undefined): void {
    this.every = every !== undefined && every > 0 ? every : ACK_EVERY;
    this.everyChars = everyChars !== undefined && everyChars > 0 ? everyChars : Infinity;
  }

  /** One more message arrived, of `length` characters. */
  got(length: number): void {
    this.count++;
    this.chars += length;
    if (this.count - this.acked >= this.every || this.chars >= this.everyChars) this.ack();
    else if (this.timer === null) this.timer = setTimeout(() => this.ack(), ACK_DELAY);
  }

  /** Acknowledges now what was not yet; `always`: even when nothing new arrived. */
  ack(always = false): void {
    this.stop();
    if (always) this.acked = -1;
    if (this.count !== this.acked && this.send(this.count)) {
      this.acked = this.count;
      this.chars = 0;
    }
  }

  /** A new connection on the server: counting starts again. */
  reset(): void {
    this.count = 0;
    this.acked = 0;
    this.chars = 0;
  }

  /** No ack is due any more (the session went). */
  stop(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }
}
