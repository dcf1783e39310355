/**
 * Adapters carry broadcasts between processes. A service publishes every broadcast and room send
 * through its adapter; the adapter hands messages from other processes back with deliver().
 * The default adapter is local only. Redis pub/sub lives in `sockjs-express/redis`.
 *
 * An adapter may also carry questions (`ask`): the dashboard asks the other processes for their
 * figures, and each process's service answers through `AdapterHost.answer`.
 */

/** One broadcast as it travels between processes. */
export interface BroadcastPacket {
  /** The room, or null for every connection of the service. */
  readonly room: string | null;
  readonly message: string;
  /** Connection ids that must not receive it. */
  readonly except?: readonly string[];
}

/** What a service offers its adapter. */
export interface AdapterHost {
  /** Delivers a packet published by another process to this process's connections. */
  deliver(packet: BroadcastPacket): void;
  /** Reports a transport problem (logged, and emitted as the router's 'adapter_error'). */
  error(err: Error): void;
  /** Answers a question another process asked with `ask()`: the answer's text, or null for none. */
  answer?(topic: string, payload: string): string | null;
}

/** One process's answer to `Adapter.ask()`. */
export interface AdapterAnswer {
  /** The answering process, readable and stable while it runs: `hostname:pid`. */
  readonly process: string;
  /** The answering adapter (a process has one per service that uses an adapter). */
  readonly adapter: string;
  readonly payload: string;
}

import type { RecoveryStore } from './recovery/store.js';

export interface Adapter {
  /** Called once when the service starts using the adapter. */
  bind(host: AdapterHost): void;
  /** Sends a packet to the other processes (not back to this one). */
  publish(packet: BroadcastPacket): void;
  /** Releases connections and subscriptions. */
  close(): Promise<void>;
  /**
   * Optional, called once when the service has `recovery` on: a shared store through which room
   * and broadcast messages then travel (instead of publish()), so that a connection can resume on
   * another process (docs/recovery.md). `sockjs-express/redis` has one.
   */
  recoveryStore?(recovery: { window_ms: number }): RecoveryStore;
  /**
   * Optional: asks the other processes of this adapter (not this one) and resolves with the
   * answers that arrived within `timeoutMs`. Never rejects: a process that is gone, or an adapter
   * that cannot reach the others, simply gives fewer answers.
   */
  ask?(topic: string, payload: string, timeoutMs: number): Promise<AdapterAnswer[]>;
}

/** The default: one process, nothing to carry, and no other process to ask. */
export class LocalAdapter implements Adapter {
  bind(): void {}
  publish(): void {}
  ask(): Promise<AdapterAnswer[]> {
    return Promise.resolve([]);
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}
