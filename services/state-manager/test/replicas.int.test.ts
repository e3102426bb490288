import type { ExecutionSnapshot } from "@jetflow/contracts";
import { connectTo, startNatsServer, uniqueName, waitFor } from "@jetflow/testing";
import type { NatsServer } from "@jetflow/testing";
import { jetstreamManager } from "@nats-io/jetstream";
import type { JetStreamManager } from "@nats-io/jetstream";
import type { KV } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import { readExecutionHistory, replayExecution } from "../src/history-reader";
import { commit, commitOk, load, openInstances, startStateManager, storedSnapshot } from "./harness";
import type { RunningStateManager } from "./harness";
import { commitRequest, makeBatch } from "@jetflow/engine/test-support";

let server: NatsServer | undefined;
const instances: RunningStateManager[] = [];
const clients: NatsConnection[] = [];
let jsm: JetStreamManager;
let kv: KV;

beforeAll(async () => {
  server = await startNatsServer();
  // Small caches make the instances fall back to reading the bucket more often.
  instances.push(
    await startStateManager(server.url),
    await startStateManager(server.url, { cacheEntries: 2 }),
  );
  clients.push(await connectTo(server.url), await connectTo(server.url));
  jsm = await jetstreamManager(clients[0]!);
  kv = await openInstances(clients[0]!);
});

afterAll(async () => {
  await Promise.allSettled(clients.map((nc) => nc.close()));
  await Promise.allSettled(instances.map((instance) => instance.stop()));
  await server?.dispose();
});

/** Checks the invariants of one execution: event ids 1..n in order, stored snapshot = replay. */
async function expectConsistent(executionId: string, lastEventId: number): Promise<void> {
  const history = await readExecutionHistory(jsm, executionId);
  const ids = history.flatMap((stored) => stored.batch.events.map((event) => event.eventId));
  expect(ids).toEqual(Array.from({ length: lastEventId }, (_, i) => i + 1));
  const replayed = await replayExecution(jsm, executionId);
  expect((await storedSnapshot(kv, executionId))?.snapshot).toEqual(replayed);
  expect((await load(clients[0]!, executionId)).snapshot).toEqual(replayed);
}

/**
 * An orchestrator replica in miniature: load, decide the next batch, commit; on a conflict load
 * and decide again. Stops once the execution has `targetEventId` events.
 */
async function racingWriter(
  nc: NatsConnection,
  executionId: string,
  tag: string,
  targetEventId: number,
): Promise<{ committed: number; conflicts: number }> {
  let committed = 0;
  let conflicts = 0;
  for (;;) {
    const reply = await load(nc, executionId);
    if (reply.error !== "") throw new Error(reply.error);
    const snapshot: ExecutionSnapshot | undefined = reply.snapshot;
    const next = (snapshot?.lastEventId ?? 0) + 1;
    if (next > targetEventId) return { committed, conflicts };
    const size = Math.min(1 + (next % 3), targetEventId - next + 1);
    const result = (await commit(nc, commitRequest(snapshot, makeBatch(executionId, next, size, tag))))
      .result;
    if (result?.$case === "ok" && !result.value.duplicate) committed += 1;
    else if (result?.$case === "conflict") conflicts += 1;
    else throw new Error(`unexpected reply ${JSON.stringify(result)}`);
  }
}

describe("two state-manager instances in one queue group", () => {
  it("keep every history gapless and every snapshot equal to its replay under racing writers", async () => {
    const ids = Array.from({ length: 4 }, () => uniqueName("race"));
    const target = 30;
    const results = await Promise.all(
      ids.flatMap((id) => [
        racingWriter(clients[0]!, id, "one", target),
        racingWriter(clients[1]!, id, "two", target),
      ]),
    );
    for (const id of ids) await expectConsistent(id, target);
    expect(results.reduce((sum, r) => sum + r.committed, 0)).toBeGreaterThanOrEqual(ids.length);
    // Both instances took part (requests spread randomly over the queue group).
    for (const instance of instances) expect(instance.stateManager.stats().commits).toBeGreaterThan(0);
  });

  it("finish 1,000 pipelined commits", async () => {
    const ids = Array.from({ length: 500 }, () => uniqueName("bulk"));
    const firsts = ids.map((id) => commitRequest(undefined, makeBatch(id, 1, 2)));
    const firstOks = await Promise.all(firsts.map((request, i) => commitOk(clients[i % 2]!, request)));
    const seconds = ids.map((id, i) =>
      commitRequest({ ...firsts[i]!.snapshot!, lastEventSeq: firstOks[i]!.eventSeq }, makeBatch(id, 3, 3)),
    );
    const secondOks = await Promise.all(seconds.map((request, i) => commitOk(clients[i % 2]!, request)));
    expect(secondOks.every((ok) => !ok.duplicate)).toBe(true);
    for (const id of ids.slice(0, 20)) await expectConsistent(id, 5);
  });

  it("answers every in-flight commit when one instance stops", async () => {
    const third = await startStateManager(server!.url);
    instances.push(third);
    const ids = Array.from({ length: 200 }, () => uniqueName("stop"));
    const pending = ids.map((id, i) =>
      commitOk(clients[i % 2]!, commitRequest(undefined, makeBatch(id, 1, 1))),
    );
    // Stop while it is serving: some of its requests are in flight and must still be answered.
    await waitFor(() => third.stateManager.stats().commits > 0, 30_000);
    await third.stop();
    expect(third.stateManager.ready()).toBe(false);
    const oks = await Promise.all(pending);
    expect(oks).toHaveLength(200);
    for (const id of ids.slice(0, 10)) await expectConsistent(id, 1);
  });
});
