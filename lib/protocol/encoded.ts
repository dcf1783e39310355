/**
 * Frames are encoded to UTF-8 once per distinct frame: a broadcast hands the same frame string to
 * every session, so each transport keeps its last frame and its bytes and reuses them.
 */
export class EncodedFrameCache {
  private frame: string | null = null;
  private bytes: Buffer = Buffer.alloc(0);

  constructor(private readonly wrap: (frame: string) => string) {}

  get(frame: string): Buffer {
    // Same string object for a broadcast, so this comparison is a pointer check.
    if (frame === this.frame) return this.bytes;
    const bytes = Buffer.from(this.wrap(frame));
    this.frame = frame;
    this.bytes = bytes;
    return bytes;
  }
}
