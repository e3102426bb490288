/**
 * The scheduler loop: every api-gateway replica runs it, and the one holding the scheduler lease
 * (key `leader` of the jetflow_scheduler_lease bucket, created with `create`, renewed by
 * compare-and-set at every tick, ended by the bucket's TTL when its holder dies) fires the
 * schedules. The lease only keeps replicas from doing the same work: correctness does not rest
 * on it (a start is idempotent per fire time, state writes are compare-and-set).
 */
import { randomUUID } from "node:crypto";
import type { KV } from "@nats-io/kv";
import type { Logger } from "pino";
import type { Schedules } from "./schedules";

export const LEASE_KEY = "leader";

export interface SchedulerOptions {
  lease: KV;
  schedules: Schedules;
  log: Logger;
  tickMs: number;
}

export interface Scheduler {
  /** True while this replica holds the lease. */
  leader(): boolean;
  stop(): Promise<void>;
}

export function startScheduler(o: SchedulerOptions): Scheduler {
  const holder = randomUUID();
  let revision: number | undefined;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let wake: (() => void) | undefined;

  async function holdLease(): Promise<boolean> {
    try {
      if (revision === undefined) {
        revision = await o.lease.create(LEASE_KEY, holder);
        o.log.info({ holder }, "scheduler lease taken: this replica fires the schedules");
      } else {
        revision = await o.lease.update(LEASE_KEY, holder, revision);
      }
      return true;
    } catch {
      if (revision !== undefined) o.log.warn({ holder }, "scheduler lease lost");
      revision = undefined;
      return false;
    }
  }

  const loop = (async () => {
    while (!stopped) {
      try {
        if (await holdLease()) await o.schedules.tick();
      } catch (err) {
        o.log.warn({ err }, "scheduler tick failed");
      }
      if (stopped) break;
      await new Promise<void>((resolve) => {
        wake = resolve;
        timer = setTimeout(resolve, o.tickMs);
      });
    }
  })();

  return {
    leader: () => revision !== undefined,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      wake?.();
      await loop;
      // Hand the lease over at once rather than after its TTL.
      if (revision !== undefined) {
        await o.lease.delete(LEASE_KEY, { previousSeq: revision }).catch(() => undefined);
        revision = undefined;
      }
    },
  };
}
