/**
 * Frames a transport wraps in its envelope (a newline, `data: `, a script tag), encoded to bytes
 * once per shared frame (see sharedFrameId in frames.ts): a broadcast hands the same frame to
 * every session.
 */
import { sharedFrameId } from './frames.js';

export class EncodedFrameCache {
  private id = 0;
  private bytes: Buffer = Buffer.alloc(0);

  constructor(private readonly wrap: (frame: string) => string) {}

  get(frame: string): Buffer {
    return this.shared(frame) ?? Buffer.from(this.wrap(frame));
  }

  /** The bytes of `frame` if it is this round's shared frame (encoded on first use), else null. */
  shared(frame: string): Buffer | null {
    const id = sharedFrameId(frame);
    if (id === 0) return null;
    if (id !== this.id) {
      this.id = id;
      this.bytes = Buffer.from(this.wrap(frame));
    }
    return this.bytes;
  }
}
