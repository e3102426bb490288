/**
 * Keeps an in-memory view of a KV bucket current: a watch (an ordered push consumer, resumed by
 * nats.js after a reconnect) delivers the last value of every key, then every change. `sync()`
 * waits until the view has applied everything the bucket held when it was called, so a read
 * after a write acknowledged before it sees that write (also on another gateway replica).
 */
import type { KV, KvEntry } from "@nats-io/kv";
import type { Logger } from "@jetflow/service-runtime";
import { ApiError } from "./errors";

/** Options of `KvView`. */
export interface KvViewOptions {
  kv: KV;
  /** Applies one entry (a PUT, or a DEL/PURGE of its key) to the view. */
  apply: (entry: KvEntry) => void;
  /** Deliver keys and headers only (the view needs no values). Default false. */
  headersOnly?: boolean;
  log: Logger;
  /** How long `sync()` waits before it answers UNAVAILABLE, in ms. Default 10000. */
  syncTimeoutMs?: number;
}

export class KvView {
  private applied = 0;
  private waiters: Array<{ revision: number; resolve: () => void }> = [];
  private stopWatch: (() => void) | undefined;
  private stopped = false;

  constructor(private readonly o: KvViewOptions) {}

  /** Starts the watch; the initial values arrive in the background. */
  async start(): Promise<void> {
    const watch = await this.o.kv.watch({ headers_only: this.o.headersOnly ?? false });
    this.stopWatch = () => watch.stop();
    void (async () => {
      try {
        for await (const entry of watch) {
          try {
            this.o.apply(entry);
          } catch (err) {
            this.o.log.warn({ err, key: entry.key }, "index entry not applied");
          }
          this.applied = Math.max(this.applied, entry.revision);
          this.release();
        }
      } catch (err) {
        if (!this.stopped) this.o.log.error({ err }, "kv watch failed");
      }
    })();
  }

  /**
   * Resolves once the view holds every entry the bucket held when called.
   * @throws ApiError UNAVAILABLE when it does not catch up within the sync timeout
   */
  async sync(): Promise<void> {
    const state = (await this.o.kv.status()).streamInfo.state;
    // An emptied bucket keeps its last sequence: there is nothing to wait for.
    if (state.messages === 0 || this.applied >= state.last_seq) return;
    const revision = state.last_seq;
    await new Promise<void>((resolve, reject) => {
      const waiter = { revision, resolve };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(ApiError.unavailable("the list is still loading; try again"));
      }, this.o.syncTimeoutMs ?? 10_000);
      waiter.resolve = () => {
        clearTimeout(timer);
        resolve();
      };
      this.waiters.push(waiter);
    });
  }

  stop(): void {
    this.stopped = true;
    this.stopWatch?.();
  }

  private release(): void {
    if (this.waiters.length === 0) return;
    const ready = this.waiters.filter((w) => w.revision <= this.applied);
    if (ready.length === 0) return;
    this.waiters = this.waiters.filter((w) => w.revision > this.applied);
    for (const w of ready) w.resolve();
  }
}
