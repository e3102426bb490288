/**
 * The decision behind every snapshot write: compare-and-set on the KV revision, and monotonic in
 * `last_event_seq`, so a slow writer never replaces a newer snapshot with an older one. Pure; the
 * I/O loop that follows these steps is in kv-store.ts.
 */
import { ExecutionStatus } from "@jetflow/contracts";

/** What the writer believes about the KV entry of one execution. */
export type KnownEntry =
  /** Nothing: read the entry first. */
  | { kind: "unknown" }
  /** No entry (or assumed none, for a new execution). */
  | { kind: "absent" }
  /**
   * An entry at `revision`; `lastEventSeq` is undefined when it holds no readable snapshot
   * (a delete marker, or bytes that do not decode), which any snapshot may replace.
   */
  | { kind: "present"; revision: number; lastEventSeq: number | undefined };

/** The next thing to do to store a snapshot. */
export type PutStep =
  | { op: "read" }
  | { op: "create" }
  | { op: "update"; revision: number }
  /** A snapshot at `storedSeq` ≥ ours is already there: keep it. */
  | { op: "skip"; storedSeq: number };

/** The step that stores a snapshot at `lastEventSeq` given what is known of the current entry. */
export function nextPutStep(known: KnownEntry, lastEventSeq: number): PutStep {
  switch (known.kind) {
    case "unknown":
      return { op: "read" };
    case "absent":
      return { op: "create" };
    case "present":
      // Equal counts as newer: the same batch folded twice (a retried commit) gives the same
      // snapshot, and rewriting it would only cost a write.
      if (known.lastEventSeq !== undefined && known.lastEventSeq >= lastEventSeq) {
        return { op: "skip", storedSeq: known.lastEventSeq };
      }
      return { op: "update", revision: known.revision };
    default: {
      const never: never = known;
      throw new Error(`unknown entry state ${JSON.stringify(never)}`);
    }
  }
}

/** How many compare-and-set attempts a snapshot write makes before giving up. */
export const MAX_PUT_ATTEMPTS = 10;

/** What the state-manager last stored (or read) for an execution, as the deferral needs it. */
export interface StoredSnapshotFacts {
  lastEventId: number;
  status: ExecutionStatus;
  redriveCount: number;
}

/**
 * What is stored for a Map or Parallel child whose first batch this process appended: nothing
 * yet. A child has no execution index entry, and no reader but a load (which folds its history)
 * looks for it while it runs, so its first snapshot may wait like any other running one; the
 * first written is the one `everyEvents` in, or its end. A top-level execution's first snapshot is
 * always written: its index entry is written with it, and the execution list shows it at once.
 */
export const NOTHING_STORED: StoredSnapshotFacts = {
  lastEventId: 0,
  status: ExecutionStatus.EXECUTION_STATUS_RUNNING,
  redriveCount: 0,
};

/**
 * Whether the snapshot of a commit may be left unwritten: the stored one stays behind the history
 * and a load folds the batches after it (docs/architecture.md, "The snapshot is a projection").
 * Only while the execution runs on, with the same status and redrive count as the stored snapshot
 * (the execution index and every reader of finished executions need those written), and while the
 * stored snapshot is fewer than `everyEvents` events behind. `stored` undefined (nothing known of
 * the stored entry, or a new execution) and `everyEvents` 0 always write; a Map or Parallel child
 * whose history this process began is judged against {@link NOTHING_STORED}. Pure.
 */
export function mayDeferSnapshot(
  snapshot: StoredSnapshotFacts,
  stored: StoredSnapshotFacts | undefined,
  everyEvents: number,
): boolean {
  if (everyEvents <= 0 || stored === undefined) return false;
  const running = ExecutionStatus.EXECUTION_STATUS_RUNNING;
  if (snapshot.status !== running || stored.status !== running) return false;
  if (snapshot.redriveCount !== stored.redriveCount) return false;
  return snapshot.lastEventId - stored.lastEventId < everyEvents;
}
