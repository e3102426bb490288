/**
 * The snapshots in the KV bucket jetflow_instances, one key per execution. Every write is a
 * compare-and-set on the entry's revision and never replaces a snapshot with one of a lower
 * `last_event_seq` (the steps come from monotonic-put.ts). The revisions this process wrote or
 * read are kept in an LRU cache, so a write is usually a single round trip.
 */
import { snapshotLogFields } from "@jetflow/service-runtime";
import { ExecutionSnapshot, buckets, decode, encode } from "@jetflow/contracts";
import type { KV } from "@nats-io/kv";
import type { Logger } from "pino";
import { SnapshotWriteError, isWrongLastSequence } from "./errors";
import type { LruCache } from "@jetflow/service-runtime";
import { MAX_PUT_ATTEMPTS, NOTHING_STORED, mayDeferSnapshot, nextPutStep } from "./monotonic-put";
import type { KnownEntry, StoredSnapshotFacts } from "./monotonic-put";

/**
 * What the cache remembers of an execution's KV entry. Revision 0 (KV revisions start at 1): no
 * entry yet, a child whose first snapshot was deferred ({@link NOTHING_STORED}).
 */
export interface CachedVersion extends StoredSnapshotFacts {
  revision: number;
  lastEventSeq: number;
}

/** The cache's record of a child whose first snapshot was deferred. */
const NOTHING_STORED_VERSION: CachedVersion = { revision: 0, lastEventSeq: 0, ...NOTHING_STORED };

/** A read of one execution's KV entry. */
export interface SnapshotRead {
  /** The entry as `putMonotonic` needs to know it. */
  known: KnownEntry;
  /** The stored snapshot; undefined when there is none or it does not decode. */
  snapshot: ExecutionSnapshot | undefined;
}

/** The result of `putMonotonic`. */
export type PutOutcome =
  | { written: true; revision: number }
  /** A snapshot at `storedSeq` ≥ ours was already stored and was kept. */
  | { written: false; storedSeq: number };

/** Options of `createSnapshotStore`. */
export interface SnapshotStoreOptions {
  kv: KV;
  cache: LruCache<string, CachedVersion>;
  log: Logger;
  /**
   * How many events a running execution's stored snapshot may lag its history before a commit
   * writes it (`mayDefer`); 0: every commit writes. Default 0.
   */
  snapshotEveryEvents?: number;
}

/** Reads and monotonic writes of snapshots. */
export interface SnapshotStore {
  /** Reads the entry of `executionId` and remembers its revision. */
  read(executionId: string): Promise<SnapshotRead>;
  /**
   * Stores `snapshot` unless a snapshot with an equal or higher `lastEventSeq` is already there.
   * `fallback` is what to assume when the cache knows nothing (e.g. `absent` for a new execution).
   * @throws SnapshotWriteError after MAX_PUT_ATTEMPTS lost compare-and-sets; NATS errors as they come
   */
  putMonotonic(executionId: string, snapshot: ExecutionSnapshot, fallback: KnownEntry): Promise<PutOutcome>;
  /**
   * Whether a commit may leave `snapshot` unwritten (`mayDeferSnapshot`), judged on what this
   * process knows it stored last; nothing known: no, except for a Map or Parallel child whose
   * first batch this commit appended (`began`), which has nothing stored yet. Deferring that
   * first snapshot is remembered, so the child's first write creates the entry without a read.
   */
  mayDefer(executionId: string, snapshot: ExecutionSnapshot, began: boolean): boolean;
}

/** Creates the snapshot store over an opened `jetflow_instances` bucket. */
export function createSnapshotStore({
  kv,
  cache,
  log,
  snapshotEveryEvents = 0,
}: SnapshotStoreOptions): SnapshotStore {
  async function read(executionId: string): Promise<SnapshotRead> {
    const entry = await kv.get(executionId);
    if (entry === null) {
      cache.delete(executionId);
      return { known: { kind: "absent" }, snapshot: undefined };
    }
    if (entry.operation !== "PUT") {
      cache.delete(executionId);
      return {
        known: { kind: "present", revision: entry.revision, lastEventSeq: undefined },
        snapshot: undefined,
      };
    }
    let snapshot: ExecutionSnapshot;
    try {
      snapshot = decode(
        ExecutionSnapshot,
        "ExecutionSnapshot",
        entry.value,
        `${buckets.instances}/${executionId}`,
      );
    } catch (err) {
      // The events are the truth: an unreadable snapshot is rebuilt from them and overwritten.
      log.warn({ err, executionId, revision: entry.revision }, "stored snapshot does not decode");
      cache.delete(executionId);
      return {
        known: { kind: "present", revision: entry.revision, lastEventSeq: undefined },
        snapshot: undefined,
      };
    }
    cache.set(executionId, { revision: entry.revision, ...factsOf(snapshot) });
    return {
      known: { kind: "present", revision: entry.revision, lastEventSeq: snapshot.lastEventSeq },
      snapshot,
    };
  }

  async function putMonotonic(
    executionId: string,
    snapshot: ExecutionSnapshot,
    fallback: KnownEntry,
  ): Promise<PutOutcome> {
    const cached = cache.get(executionId);
    let known: KnownEntry =
      cached === undefined
        ? fallback
        : cached.revision === 0
          ? { kind: "absent" }
          : { kind: "present", revision: cached.revision, lastEventSeq: cached.lastEventSeq };
    let bytes: Uint8Array | undefined;
    let attempts = 0;
    for (;;) {
      const step = nextPutStep(known, snapshot.lastEventSeq);
      if (step.op === "skip") return { written: false, storedSeq: step.storedSeq };
      if (step.op === "read") {
        known = (await read(executionId)).known;
        continue;
      }
      if (attempts >= MAX_PUT_ATTEMPTS) throw new SnapshotWriteError(executionId, attempts);
      attempts += 1;
      bytes ??= encode(ExecutionSnapshot, snapshot);
      try {
        const revision =
          step.op === "create"
            ? await kv.create(executionId, bytes)
            : await kv.update(executionId, bytes, step.revision);
        cache.set(executionId, { revision, ...factsOf(snapshot) });
        return { written: true, revision };
      } catch (err) {
        if (!isWrongLastSequence(err)) throw err;
        // Someone else wrote the entry since we learnt its revision: look again.
        log.debug({ ...snapshotLogFields(snapshot), attempts }, "snapshot compare-and-set lost");
        cache.delete(executionId);
        known = { kind: "unknown" };
      }
    }
  }

  function mayDefer(executionId: string, snapshot: ExecutionSnapshot, began: boolean): boolean {
    const cached = cache.get(executionId);
    const beganChild = cached === undefined && began && snapshot.parent !== undefined;
    const stored = beganChild ? NOTHING_STORED : cached;
    const defer = mayDeferSnapshot(snapshot, stored, snapshotEveryEvents);
    if (defer && beganChild) cache.set(executionId, NOTHING_STORED_VERSION);
    return defer;
  }

  return { read, putMonotonic, mayDefer };
}

/** What the cache keeps of a stored snapshot besides its revision. */
function factsOf(snapshot: ExecutionSnapshot): Omit<CachedVersion, "revision"> {
  return {
    lastEventSeq: snapshot.lastEventSeq,
    lastEventId: snapshot.lastEventId,
    status: snapshot.status,
    redriveCount: snapshot.redriveCount,
  };
}
