/**
 * The shared base of every HTTP receiver. A polling receiver answers exactly one frame and ends;
 * a streaming receiver keeps writing frames until it has sent `response_limit` bytes, so that
 * browsers and proxies that keep whole responses in memory get to free them.
 */
import type { ServerResponse } from 'node:http';
import type { Receiver, Session } from '../session/session.js';
import type { SharedFrame } from '../protocol/shared-frame.js';
import { flattenHead } from '../internals.js';

export abstract class ResponseReceiver implements Receiver {
  private ended = false;
  private sent = 0;
  private onWritten: (() => void) | null = null;

  constructor(
    protected readonly session: Session,
    protected readonly res: ServerResponse,
    /** Bytes of frames (not counting the prelude) after which a streaming response ends; 0 for polling. */
    private readonly limit: number,
  ) {
    const stats = session.host.stats;
    stats.connectionsActive++;
    stats.connectionsTotal++;
    // 'close' comes once; on() spares the wrapper and state objects once() keeps per response.
    res.on('close', () => {
      stats.connectionsActive--;
      // 'close' after our own end() is the normal finish; before it, the client went away.
      if (!this.ended) {
        this.ended = true;
        this.session.receiverGone(this);
      }
    });
    if (res.headersSent) flattenHead(res);
  }

  get streams(): boolean {
    return this.limit !== 0;
  }

  /** One frame in the transport's envelope, as bytes. */
  protected abstract encode(frame: string, shared: SharedFrame | null | undefined): Buffer;

  sendFrame(frame: string, shared?: SharedFrame | null): boolean {
    if (this.ended) return false;
    const chunk = this.encode(frame, shared);
    this.session.host.stats.bytesOut[this.session.transport] += chunk.length;
    const done = this.session.outbox.needDrain ? this.written() : undefined;
    if (this.limit === 0) {
      this.ended = true;
      this.res.end(chunk, done);
      return false;
    }
    this.res.write(chunk, done);
    this.sent += chunk.length;
    return this.sent < this.limit;
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.res.end();
  }

  get bufferedAmount(): number {
    return this.res.writableLength;
  }

  /** The completion callback, made once per receiver and only when a drain is owed. */
  private written(): () => void {
    return (this.onWritten ??= () => this.session.drainCheck());
  }

  destroy(): void {
    this.ended = true;
    this.res.destroy();
  }
}
