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
    const id = sharedFrameId(frame);
    if (id !== 0 && id === this.id) return this.bytes;
    const bytes = Buffer.from(this.wrap(frame));
    if (id !== 0) {
      this.id = id;
      this.bytes = bytes;
    }
    return bytes;
  }
}
