/**
 * Retention end to end: the state-manager's purger deletes exactly the finished executions whose
 * retention has passed (their events, snapshots and index entries, and their Map and Parallel
 * children's), and nothing running, nothing of a workflow kept longer or forever.
 */
import { ExecutionStatus, buckets, kvKeySubject, kvStreamName, streams, subjects } from "@jetflow/contracts";
import { readEventBatches } from "@jetflow/service-runtime";
import { waitFor } from "@jetflow/testing";
import { jetstreamManager } from "@nats-io/jetstream";
import type { ServiceError } from "@grpc/grpc-js";
import { checkStoredExecution, statusOf, waitForEnd } from "../src";
import { useEngine } from "./fixture";

const fixture = useEngine({
  replicas: { "state-manager": 2 },
  serviceEnv: {
    "state-manager": {
      RETENTION_DEFAULT: "1h",
      RETENTION_WORKFLOWS: "ret-short=2s,ret-forever=0",
      RETENTION_INTERVAL_MS: "300",
    },
  },
});

// Finishes through a Map whose iterations each run a Parallel (children and grandchildren), or
// holds in a Wait when asked to.
const FAN_OUT = JSON.stringify({
  StartAt: "Hold?",
  States: {
    "Hold?": {
      Type: "Choice",
      Choices: [{ Variable: "$.hold", BooleanEquals: true, Next: "Hold" }],
      Default: "Fan",
    },
    Hold: { Type: "Wait", Seconds: 3600, End: true },
    Fan: {
      Type: "Map",
      ItemsPath: "$.items",
      ItemProcessor: {
        StartAt: "Both",
        States: {
          Both: {
            Type: "Parallel",
            Branches: [
              { StartAt: "L", States: { L: { Type: "Pass", End: true } } },
              { StartAt: "R", States: { R: { Type: "Pass", End: true } } },
            ],
            End: true,
          },
        },
      },
      End: true,
    },
  },
});

beforeAll(async () => {
  for (const name of ["ret-short", "ret-medium", "ret-forever"]) {
    await fixture.engine.client.registerWorkflow({ name, definition: FAN_OUT, description: "" });
  }
});

async function start(workflowName: string, input: unknown): Promise<string> {
  const started = await fixture.engine.client.startExecution({
    workflowName,
    workflowVersion: 0,
    inputJson: JSON.stringify(input),
    executionName: "",
  });
  return started.executionId;
}

/** The execution and every descendant, from the histories. */
async function treeOf(executionId: string): Promise<string[]> {
  const ids = [executionId];
  for await (const { batch } of readEventBatches(fixture.nc, executionId)) {
    for (const event of batch.events) {
      const d = event.details;
      if (d?.$case === "mapIterationStarted" || d?.$case === "parallelBranchStarted") {
        ids.push(...(await treeOf(d.value.childExecutionId)));
      }
    }
  }
  return ids;
}

/** What is still stored of one execution: its last event batch and its snapshot. */
async function stored(executionId: string): Promise<{ events: boolean; snapshot: boolean }> {
  const jsm = await jetstreamManager(fixture.nc);
  const events = await jsm.streams.getMessage(streams.events, { last_by_subj: subjects.events(executionId) });
  const snapshot = await jsm.streams.getMessage(kvStreamName(buckets.instances), {
    last_by_subj: kvKeySubject(buckets.instances, executionId),
  });
  return { events: events !== null, snapshot: snapshot !== null };
}

it("purges exactly the executions whose retention has passed, children included, and nothing running", async () => {
  const expiring = await start("ret-short", { hold: false, items: [1, 2, 3] });
  const running = await start("ret-short", { hold: true });
  const medium = await start("ret-medium", { hold: false, items: [1] });
  const forever = await start("ret-forever", { hold: false, items: [1] });
  for (const id of [expiring, medium, forever]) {
    expect(statusOf((await waitForEnd(fixture.engine.client, id)).execution?.status)).toBe("SUCCEEDED");
  }
  const tree = await treeOf(expiring);
  expect(tree).toHaveLength(1 + 3 + 6);
  for (const id of tree) expect(await stored(id)).toEqual({ events: true, snapshot: true });

  // Gone from the index (ListExecutions) once purged: the index entry goes last.
  await waitFor(
    async () => {
      const page = await fixture.engine.client.listExecutions({
        workflowName: "ret-short",
        status: ExecutionStatus.EXECUTION_STATUS_UNSPECIFIED,
        pageSize: 100,
        pageToken: "",
        namePrefix: "",
        startedAfter: undefined,
        startedBefore: undefined,
      });
      return page.executions.some((e) => e.executionId === expiring) ? undefined : true;
    },
    { timeoutMs: 60_000, intervalMs: 200, message: "the expired execution was not purged" },
  );
  for (const id of tree) expect(await stored(id)).toEqual({ events: false, snapshot: false });
  const described = await fixture.engine.client
    .describeExecution({ executionId: expiring })
    .then(() => 0)
    .catch((err: ServiceError) => err.code);
  expect(described).toBe(5);

  // The running execution of the same workflow, running longer than its retention, is kept whole.
  const hold = await fixture.engine.client.describeExecution({ executionId: running });
  expect(statusOf(hold.execution?.status)).toBe("RUNNING");
  await checkStoredExecution(fixture.nc, running);
  // So are finished executions of workflows kept longer, or forever.
  for (const id of [medium, forever]) {
    for (const child of await treeOf(id))
      expect(await stored(child)).toEqual({ events: true, snapshot: true });
    await checkStoredExecution(fixture.nc, id);
  }
  const listed = await fixture.engine.client.listExecutions({
    workflowName: "",
    status: ExecutionStatus.EXECUTION_STATUS_UNSPECIFIED,
    pageSize: 100,
    pageToken: "",
    namePrefix: "",
    startedAfter: undefined,
    startedBefore: undefined,
  });
  expect(listed.executions.map((e) => e.executionId).sort()).toEqual([running, medium, forever].sort());
});
