/**
 * The retention purger: deletes finished executions whose retention has passed, everywhere they
 * live (their children's and their own events, snapshots, pending timers and commands, then their
 * index entry last, so that a purge cut short is found again by the next pass). One replica purges
 * at a time, holding a lease in the KV bucket jetflow_retention (compare-and-set on its revision).
 *
 * A pass scans the execution index's stream (KV_jetflow_executions) from where the last pass
 * stopped, at most `scanLimit` entries, and purges at most `batchSize` expired executions; its
 * order is the order of the entries' last writes, so executions that ended long ago come first.
 * Running executions are never purged: the index says RUNNING, or the snapshot does (checked again
 * just before the purge), or one of its children still runs.
 */
import { randomUUID } from "node:crypto";
import {
  ExecutionSnapshot,
  ExecutionStatus,
  ExecutionSummary,
  buckets,
  decode,
  kvKeySubject,
  kvStreamName,
  streams,
  subjects,
} from "@jetflow/contracts";
import { readEventBatchesWith } from "@jetflow/service-runtime";
import type { Logger } from "@jetflow/service-runtime";
import type { JetStreamManager, MsgRequest, StoredMsg } from "@nats-io/jetstream";
import type { KV } from "@nats-io/kv";
import { isExpired, keepsEverything } from "./retention";
import type { RetentionPolicy } from "./retention";

/** How the purger paces itself. */
export interface PurgerConfig {
  policy: RetentionPolicy;
  /** RETENTION_INTERVAL_MS: pause between passes. Default 60000. */
  intervalMs: number;
  /** RETENTION_BATCH_SIZE: most top-level executions purged per pass. Default 100. */
  batchSize: number;
  /** RETENTION_SCAN_LIMIT: most index entries read per pass. Default 10000. */
  scanLimit: number;
}

export interface PurgerOptions {
  jsm: JetStreamManager;
  /** The bucket of the purger's lease. */
  leaseKv: KV;
  /** The execution index (jetflow_executions). */
  indexKv: KV;
  config: PurgerConfig;
  log: Logger;
  now?: () => number;
}

/** What one pass did. */
export interface PassResult {
  scanned: number;
  purged: string[];
  /** Expired executions left alone because something in them still runs. */
  skipped: string[];
}

const LEASE_KEY = "purger";
/** Children purged at once. */
const CONCURRENCY = 16;
/** Delete markers of the index older than this are removed from its stream (gateways applied them). */
const MARKER_AGE_MS = 3_600_000;

/** Thrown inside a purge when part of the execution still runs. */
class StillRunning extends Error {
  constructor(readonly executionId: string) {
    super(`execution "${executionId}" is still running`);
  }
}

/** Creates the purger; `start()` runs passes until `stop()`. */
export function createPurger(o: PurgerOptions) {
  const now = o.now ?? Date.now;
  const owner = `sm-${randomUUID()}`;
  const indexStream = kvStreamName(buckets.executions);
  const indexSubjects = kvKeySubject(buckets.executions, ">");
  let cursor = 0;
  let running = false;
  let loop: Promise<void> | undefined;
  let wake: (() => void) | undefined;
  let totalPurged = 0;

  async function takeLease(): Promise<boolean> {
    const value = () =>
      JSON.stringify({ owner, expiresMs: now() + Math.max(3 * o.config.intervalMs, 30_000) });
    const entry = await o.leaseKv.get(LEASE_KEY);
    try {
      if (!entry || entry.operation !== "PUT") {
        await o.leaseKv.create(LEASE_KEY, value());
        return true;
      }
      const lease = entry.json<{ owner: string; expiresMs: number }>();
      if (lease.owner !== owner && lease.expiresMs > now()) return false;
      await o.leaseKv.update(LEASE_KEY, value(), entry.revision);
      return true;
    } catch {
      // Another replica wrote the lease first.
      return false;
    }
  }

  async function nextIndexMessage(seq: number): Promise<StoredMsg | null> {
    return o.jsm.streams.getMessage(indexStream, {
      seq,
      next_by_subj: indexSubjects,
    } as unknown as MsgRequest);
  }

  async function purgeSubject(stream: string, subject: string): Promise<void> {
    try {
      await o.jsm.streams.purge(stream, { filter: subject });
    } catch (err) {
      // The stream of another service that was never created here: nothing of it to purge.
      if (!/stream not found/i.test(err instanceof Error ? err.message : String(err))) throw err;
    }
  }

  async function snapshotStatus(executionId: string): Promise<ExecutionStatus | undefined> {
    const msg = await o.jsm.streams.getMessage(kvStreamName(buckets.instances), {
      last_by_subj: kvKeySubject(buckets.instances, executionId),
    });
    if (msg === null || msg.data.length === 0) return undefined;
    return decode(ExecutionSnapshot, "ExecutionSnapshot", msg.data, msg.subject).status;
  }

  /** The execution and its descendants, children first; throws StillRunning when one runs. */
  async function collectTree(executionId: string, into: string[]): Promise<void> {
    if ((await snapshotStatus(executionId)) === ExecutionStatus.EXECUTION_STATUS_RUNNING) {
      throw new StillRunning(executionId);
    }
    const children: string[] = [];
    for await (const { batch } of readEventBatchesWith(o.jsm, executionId)) {
      for (const event of batch.events) {
        const details = event.details;
        if (details?.$case === "mapIterationStarted" || details?.$case === "parallelBranchStarted") {
          children.push(details.value.childExecutionId);
        }
      }
    }
    for (let i = 0; i < children.length; i += CONCURRENCY) {
      const subtrees = await Promise.all(
        children.slice(i, i + CONCURRENCY).map(async (child) => {
          const ids: string[] = [];
          await collectTree(child, ids);
          return ids;
        }),
      );
      for (const ids of subtrees) into.push(...ids);
    }
    into.push(executionId);
  }

  async function purgeOne(executionId: string): Promise<void> {
    await purgeSubject(streams.timers, subjects.timer(executionId));
    await purgeSubject(streams.commands, subjects.command(executionId));
    await purgeSubject(streams.events, subjects.events(executionId));
    // Purged from the bucket's stream rather than with a KV purge: no marker is left behind.
    await purgeSubject(kvStreamName(buckets.instances), kvKeySubject(buckets.instances, executionId));
  }

  /** Purges one expired top-level execution; false when something in it still runs. */
  async function purgeExecution(summary: ExecutionSummary, indexSeq: number): Promise<boolean> {
    const tree: string[] = [];
    try {
      await collectTree(summary.executionId, tree);
    } catch (err) {
      if (err instanceof StillRunning) {
        o.log.warn(
          { executionId: summary.executionId, running: err.executionId },
          "expired execution still runs; kept",
        );
        return false;
      }
      throw err;
    }
    for (let i = 0; i < tree.length; i += CONCURRENCY) {
      await Promise.all(tree.slice(i, i + CONCURRENCY).map(purgeOne));
    }
    // Last, so that a purge cut short is found again; a marker so that gateways' views drop it.
    // previousSeq: unless the entry changed since it was read (the execution was redriven).
    try {
      await o.indexKv.purge(summary.executionId, { previousSeq: indexSeq });
    } catch (err) {
      o.log.warn({ err, executionId: summary.executionId }, "index entry changed during the purge; kept");
      return false;
    }
    return true;
  }

  /** One pass: takes the lease, scans, purges. Exposed for tests. */
  async function runPass(): Promise<PassResult> {
    const result: PassResult = { scanned: 0, purged: [], skipped: [] };
    if (keepsEverything(o.config.policy) || !(await takeLease())) return result;
    const nowMs = now();
    let seq = cursor + 1;
    while (result.scanned < o.config.scanLimit && result.purged.length < o.config.batchSize) {
      const msg = await nextIndexMessage(seq);
      if (msg === null) {
        seq = 0;
        break;
      }
      seq = msg.seq + 1;
      result.scanned++;
      const operation = msg.header?.get("KV-Operation") ?? "";
      if (operation === "DEL" || operation === "PURGE") {
        if (msg.time.getTime() + MARKER_AGE_MS <= nowMs) {
          await o.jsm.streams.purge(indexStream, { filter: msg.subject, seq: msg.seq + 1 });
        }
        continue;
      }
      let summary: ExecutionSummary;
      try {
        summary = decode(ExecutionSummary, "ExecutionSummary", msg.data, msg.subject);
      } catch (err) {
        o.log.warn({ err, seq: msg.seq }, "unreadable index entry skipped");
        continue;
      }
      if (!isExpired(summary, o.config.policy, nowMs)) continue;
      if (await purgeExecution(summary, msg.seq)) result.purged.push(summary.executionId);
      else result.skipped.push(summary.executionId);
    }
    cursor = Math.max(seq - 1, 0);
    totalPurged += result.purged.length;
    if (result.purged.length > 0) {
      o.log.info(
        { purged: result.purged.length, scanned: result.scanned, totalPurged },
        "expired executions purged",
      );
    }
    return result;
  }

  async function run(): Promise<void> {
    while (running) {
      let full = false;
      try {
        const pass = await runPass();
        full = pass.purged.length >= o.config.batchSize || pass.scanned >= o.config.scanLimit;
      } catch (err) {
        o.log.warn({ err }, "retention pass failed; retrying at the next");
      }
      if (!running) break;
      // A full pass means more may be waiting: go on soon, without starving commits.
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, full ? Math.min(1000, o.config.intervalMs) : o.config.intervalMs);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = undefined;
    }
  }

  return {
    runPass,
    start(): void {
      if (keepsEverything(o.config.policy)) {
        o.log.info("retention off: finished executions are kept forever");
        return;
      }
      running = true;
      loop = run();
    },
    async stop(): Promise<void> {
      running = false;
      wake?.();
      await loop;
    },
  };
}
