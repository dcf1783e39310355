/**
 * A frame that several sessions send in the same flush round: a broadcast or room send, or a run
 * of them that sessions received one after another (the members of a busy room). Its text is built
 * once, and each transport's envelope encodes it once, for all of those sessions.
 */

/** How a transport wraps a frame; `slot` is where a SharedFrame keeps that encoding. */
export interface Envelope {
  readonly slot: number;
  wrap(frame: string): string;
}

/** Envelopes whose encodings a SharedFrame can keep (websocket, xhr, eventsource, htmlfile). */
const SLOTS = 4;

/**
 * A frame's quoted messages with how many of them are application messages and their characters
 * (the rest are recovery's position markers): what a recovery replay buffer keeps per frame.
 */
export class MessageList {
  constructor(
    readonly messages: readonly string[],
    readonly count: number,
    readonly chars: number,
  ) {}
}

export class SharedFrame {
  /** Messages in the frame. */
  readonly count: number;
  /** Characters of the quoted messages and the commas between them (what a session counts as queued). */
  readonly size: number;
  private text: string | null = null;
  private kept: MessageList | null = null;
  private readonly encodings: (Buffer | null)[] = new Array<Buffer | null>(SLOTS).fill(null);
  // The last run made by following this one with another message, and that message: every
  // member of a room follows the same run, and all but the first find it here.
  private nextKey: SharedFrame | null = null;
  private nextRun: SharedFrame | null = null;

  /** One quoted message, or `prev`'s messages followed by it. */
  constructor(
    readonly quoted: string,
    private readonly prev: SharedFrame | null = null,
  ) {
    this.count = prev === null ? 1 : prev.count + 1;
    this.size = prev === null ? quoted.length : prev.size + 1 + quoted.length;
  }

  /** This run followed by `message` (a one-message SharedFrame). */
  then(message: SharedFrame): SharedFrame {
    if (this.nextKey === message) return this.nextRun!;
    const run = new SharedFrame(message.quoted, this);
    this.nextKey = message;
    this.nextRun = run;
    return run;
  }

  /** The quoted messages, in order (a new array). */
  messages(): string[] {
    const out = new Array<string>(this.count);
    let f: SharedFrame | null = this;
    for (let i = this.count - 1; f !== null; i--, f = f.prev) out[i] = f.quoted;
    return out;
  }

  /** Its messages as one MessageList, made once for every session that sends this run (recovery's replay buffers keep it). */
  get messageList(): MessageList {
    return (this.kept ??= new MessageList(this.messages(), this.count, this.size - this.count + 1));
  }

  /** `a[...]`, built on first use. */
  get frame(): string {
    if (this.text === null) this.text = this.prev === null ? 'a[' + this.quoted + ']' : 'a[' + this.messages().join(',') + ']';
    return this.text;
  }

  /** The frame in `envelope`, encoded on first use. */
  encoded(envelope: Envelope): Buffer {
    return (this.encodings[envelope.slot] ??= Buffer.from(envelope.wrap(this.frame)));
  }
}
