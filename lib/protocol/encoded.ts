/**
 * A transport's envelope (a newline, `data: `, a script tag) around a frame, as bytes: a frame that
 * several sessions send (SharedFrame) is encoded once for all of them.
 */
import type { Envelope, SharedFrame } from './shared-frame.js';

export function envelope(slot: number, wrap: (frame: string) => string): Envelope {
  return { slot, wrap };
}

/** `frame` in `env`, as bytes. */
export function encodeFrame(env: Envelope, frame: string, shared: SharedFrame | null | undefined): Buffer {
  return shared != null ? shared.encoded(env) : Buffer.from(env.wrap(frame));
}
