/** Assertions every end-to-end test makes about what the engine stored. */
import { ExecutionSnapshot, ExecutionStatus, buckets, decode } from "@jetflow/contracts";
import type { HistoryEvent } from "@jetflow/contracts";
import { replay } from "@jetflow/engine";
import { readEventBatches } from "@jetflow/service-runtime";
import { waitFor } from "@jetflow/testing";
import { jetstream } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import type { TestClient } from "./client";

/**
 * Checks the invariants of an execution and, recursively, of its children: event ids are 1..n
 * with no gap or duplicate, and the stored snapshot equals the fold of the stored events.
 * Returns the number of executions checked.
 */
export async function checkStoredExecution(nc: NatsConnection, executionId: string): Promise<number> {
  const js = jetstream(nc);
  const kv = await new Kvm(js).open(buckets.instances);
  const batches = [];
  for await (const stored of readEventBatches(nc, executionId)) batches.push(stored);
  const events = batches.flatMap((b) => b.batch.events);
  const ids = events.map((e) => e.eventId);
  const expected = ids.map((_, i) => i + 1);
  if (JSON.stringify(ids) !== JSON.stringify(expected)) {
    throw new Error(`execution ${executionId}: event ids ${ids.join(",")} are not 1..${ids.length}`);
  }
  const rebuilt = replay(batches);
  const entry = await kv.get(executionId);
  if (!entry || !rebuilt) throw new Error(`execution ${executionId}: no snapshot`);
  const stored = decode(ExecutionSnapshot, "ExecutionSnapshot", entry.value, executionId);
  const a = JSON.stringify(ExecutionSnapshot.toJSON(stored));
  const b = JSON.stringify(ExecutionSnapshot.toJSON(rebuilt));
  if (a !== b)
    throw new Error(
      `execution ${executionId}: stored snapshot differs from the fold of its events\n${a}\n${b}`,
    );
  let checked = 1;
  for (const child of childIds(events)) checked += await checkStoredExecution(nc, child);
  return checked;
}

/**
 * `checkStoredExecution`, retried until it passes, for tests that take a NATS node or a stream's
 * leader away. There a commit's batch can be appended while its snapshot write fails: the
 * state-manager answers an error, the API already reports the end (a load folds the history), and
 * the snapshot is stored when the orchestrator gets the execution's result or command again and
 * retries the commit, or when a load can write its repair. Throws the last difference when the
 * stored snapshot is not repaired within `timeoutMs`.
 */
export async function checkStoredExecutionRepaired(
  nc: NatsConnection,
  executionId: string,
  timeoutMs = 60_000,
): Promise<number> {
  let last: unknown;
  try {
    return await waitFor(
      async () => {
        try {
          return await checkStoredExecution(nc, executionId);
        } catch (err) {
          last = err;
          return undefined;
        }
      },
      { timeoutMs, intervalMs: 250, message: `execution ${executionId}: stored state not repaired` },
    );
  } catch (err) {
    throw last ?? err;
  }
}

function childIds(events: HistoryEvent[]): string[] {
  // A redriven round launches some children again: each is checked once.
  const ids = events.flatMap((e) =>
    e.details?.$case === "mapIterationStarted" || e.details?.$case === "parallelBranchStarted"
      ? [e.details.value.childExecutionId]
      : [],
  );
  return [...new Set(ids)];
}

/** Waits until the execution is no longer RUNNING and returns its description. */
export async function waitForEnd(client: TestClient, executionId: string, timeoutMs = 60_000) {
  return waitFor(
    async () => {
      const described = await client.describeExecution({ executionId });
      return described.execution?.status !== ExecutionStatus.EXECUTION_STATUS_RUNNING ? described : undefined;
    },
    { timeoutMs, intervalMs: 50, message: `execution ${executionId} did not end` },
  );
}

/** Status name without the enum prefix, for readable assertions. */
export function statusOf(status: ExecutionStatus | undefined): string {
  return status === undefined
    ? "?"
    : (ExecutionStatus[status] ?? String(status)).replace("EXECUTION_STATUS_", "");
}
