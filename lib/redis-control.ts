/**
 * Questions between the processes of a Redis adapter (`Adapter.ask`), apart from broadcasts:
 * questions go out on `<channel>:control`, where every adapter of the channel listens, and each
 * answer comes back on the asker's own `<channel>:control:<adapter id>`, so answers reach only
 * the process that asked. Nothing is sent unless someone asks (the dashboard asks only while a
 * page polls it).
 *
 * Bounded everywhere: a question waits for answers at most its timeout (a process that is gone
 * just does not answer), keeps at most MAX_ANSWERS of them, messages over MAX_BYTES are dropped
 * on both sides, and an adapter answers at most MAX_ANSWERED_PS questions a second.
 */
import type { AdapterAnswer, AdapterHost } from './adapter.js';
import { processName } from './figures.js';

/** The parts of a node-redis client the control channel uses. */
interface ControlClient {
  readonly isReady: boolean;
  publish(channel: string, message: string): Promise<unknown>;
  subscribe(channel: string, listener: (message: string) => void): Promise<unknown>;
}

interface Question {
  /** The asking adapter. */
  n: string;
  /** Its question number. */
  q: number;
  t: string;
  p: string;
}

interface Answer {
  /** The answering adapter and its process. */
  n: string;
  f: string;
  q: number;
  p: string;
}

interface Pending {
  readonly answers: AdapterAnswer[];
  /** Adapters already heard: one answer each. */
  readonly from: Set<string>;
  readonly done: () => void;
  readonly timer: NodeJS.Timeout;
}

/** Bytes of one question or answer; anything larger is not sent, and dropped when received. */
export const MAX_BYTES = 64 * 1024;
/** Answers one question keeps (processes beyond this many are not heard). */
export const MAX_ANSWERS = 1000;
/** Questions an adapter answers per second; more are ignored (a runaway asker costs little). */
export const MAX_ANSWERED_PS = 20;
/** The longest a question may wait for answers. */
export const MAX_TIMEOUT_MS = 10_000;

function parse(raw: string): Record<string, unknown> | null {
  if (raw.length > MAX_BYTES) return null;
  try {
    const v: unknown = JSON.parse(raw);
    return v !== null && typeof v === 'object' ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

export class RedisControl {
  private readonly pending = new Map<number, Pending>();
  private readonly name = processName();
  private pub: ControlClient | null = null;
  private host: AdapterHost | null = null;
  private seq = 0;
  private closed = false;
  /** The current second of answering, and how many questions were answered in it. */
  private second = 0;
  private answered = 0;

  constructor(
    private readonly channel: string,
    private readonly id: string,
  ) {}

  /** Listens for questions and for answers to this adapter's own; `pub` sends both. */
  async start(pub: ControlClient, sub: ControlClient, host: AdapterHost): Promise<void> {
    this.pub = pub;
    this.host = host;
    await Promise.all([
      sub.subscribe(this.channel + ':control', (raw) => this.question(raw)),
      sub.subscribe(`${this.channel}:control:${this.id}`, (raw) => this.answer(raw)),
    ]);
  }

  ask(topic: string, payload: string, timeoutMs: number): Promise<AdapterAnswer[]> {
    const pub = this.pub;
    if (this.closed || pub === null || !pub.isReady) return Promise.resolve([]);
    const q = ++this.seq;
    const raw = JSON.stringify({ n: this.id, q, t: topic, p: payload } satisfies Question);
    if (raw.length > MAX_BYTES) return Promise.resolve([]);
    const ms = Math.min(Math.max(Number.isFinite(timeoutMs) ? timeoutMs : 0, 1), MAX_TIMEOUT_MS);
    return new Promise((resolve) => {
      const answers: AdapterAnswer[] = [];
      const done = (): void => {
        clearTimeout(timer);
        this.pending.delete(q);
        resolve(answers);
      };
      const timer = setTimeout(done, ms);
      timer.unref();
      this.pending.set(q, { answers, from: new Set(), done, timer });
      // A failed publish reaches nobody: the question ends now, unanswered.
      pub.publish(this.channel + ':control', raw).catch(done);
    });
  }

  /** Ends every open question with the answers it has. */
  close(): void {
    this.closed = true;
    for (const p of [...this.pending.values()]) p.done();
  }

  private question(raw: string): void {
    const v = parse(raw);
    if (v === null || this.closed || this.host?.answer === undefined || this.pub === null) return;
    const { n, q, t, p } = v;
    if (n === this.id || typeof n !== 'string' || typeof q !== 'number' || typeof t !== 'string' || typeof p !== 'string') return;
    // The reply channel is named by the question: an adapter id, never a broadcast channel.
    if (!/^[\w-]{1,64}$/.test(n)) return;
    const second = Math.floor(Date.now() / 1000);
    if (second !== this.second) {
      this.second = second;
      this.answered = 0;
    }
    if (++this.answered > MAX_ANSWERED_PS) return;
    const text = this.host.answer(t, p);
    if (text === null) return;
    const reply = JSON.stringify({ n: this.id, f: this.name, q, p: text } satisfies Answer);
    if (reply.length > MAX_BYTES || !this.pub.isReady) return;
    this.pub.publish(`${this.channel}:control:${n}`, reply).catch(() => undefined);
  }

  private answer(raw: string): void {
    const v = parse(raw);
    if (v === null) return;
    const { n, f, q, p } = v;
    if (typeof n !== 'string' || typeof f !== 'string' || typeof q !== 'number' || typeof p !== 'string') return;
    const pending = this.pending.get(q);
    if (pending === undefined || pending.answers.length >= MAX_ANSWERS || pending.from.has(n)) return;
    pending.from.add(n);
    pending.answers.push({ process: f, adapter: n, payload: p });
  }
}
