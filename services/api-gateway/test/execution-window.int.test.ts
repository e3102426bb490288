// The gateway in-process against a real nats-server with a window of 50 executions and 400 in
// the index: every page of ListExecutions (from the window or from a scan of the bucket) and the
// engine stats' workflow counts are those of every execution.
import { ExecutionStatus, ExecutionSummary, buckets, encode } from "@jetflow/contracts";
import { createClient } from "@jetflow/client";
import type { JetflowClient } from "@jetflow/client";
import { connectTo, startNatsServer } from "@jetflow/testing";
import type { NatsServer } from "@jetflow/testing";
import { jetstream } from "@nats-io/jetstream";
import type { JetStreamClient } from "@nats-io/jetstream";
import { headers } from "@nats-io/transport-node";
import type { NatsConnection } from "@nats-io/transport-node";
import pino from "pino";
import { summarizeWorkflows } from "../src/engine-stats";
import { createGateway } from "../src/gateway";

const WINDOW = 50;
const { RUNNING, SUCCEEDED, FAILED, ABORTED } = {
  RUNNING: ExecutionStatus.EXECUTION_STATUS_RUNNING,
  SUCCEEDED: ExecutionStatus.EXECUTION_STATUS_SUCCEEDED,
  FAILED: ExecutionStatus.EXECUTION_STATUS_FAILED,
  ABORTED: ExecutionStatus.EXECUTION_STATUS_ABORTED,
};

let server: NatsServer;
let nc: NatsConnection;
let js: JetStreamClient;
let gateway: ReturnType<typeof createGateway>;
let client: JetflowClient;
/** What the bucket holds, by execution id. */
const bucket = new Map<string, ExecutionSummary>();

beforeAll(async () => {
  server = await startNatsServer();
  nc = await connectTo(server.url);
  js = jetstream(nc);
  gateway = createGateway({
    nc,
    log: pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" }),
    config: {
      grpcAddress: "127.0.0.1:0",
      maxPayloadBytes: 256 * 1024,
      maxDefinitionBytes: 512 * 1024,
      stateTimeoutMs: 5_000,
      replicas: 1,
      protoDir: undefined,
      httpHost: "127.0.0.1",
      httpPort: 0,
      consoleDir: undefined,
      executionListWindow: WINDOW,
    },
  });
  client = createClient({ address: `127.0.0.1:${await gateway.start()}`, retries: 0 });
});

afterAll(async () => {
  client?.close();
  await gateway?.stop();
  await nc?.close();
  await server?.dispose();
});

/** Writes an index entry as the state-manager does, and remembers it. */
async function put(summary: ExecutionSummary): Promise<void> {
  await js.publish(`$KV.${buckets.executions}.${summary.executionId}`, encode(ExecutionSummary, summary));
  bucket.set(summary.executionId, summary);
}

const NOW = Date.now();

function summaryOf(i: number, status = i % 7 === 3 ? FAILED : i % 5 === 0 ? RUNNING : SUCCEEDED) {
  // Starts in order with ties (two executions a second), written out of order.
  const startMs = NOW - 3_600_000 + Math.floor(i / 2) * 1_000;
  return {
    executionId: `e-${String(i).padStart(4, "0")}`,
    executionName: i % 3 === 0 ? `nightly-${i}` : `order-${i}`,
    workflowName: `w${i % 4}`,
    workflowVersion: 1,
    status,
    startTime: new Date(startMs),
    stopTime: status === RUNNING ? undefined : new Date(NOW - 60_000 + i),
    redriveCount: 0,
    scheduleId: "",
  };
}

interface Query {
  workflowName?: string;
  status?: ExecutionStatus;
  namePrefix?: string;
  startedAfter?: Date;
  startedBefore?: Date;
  pageSize: number;
}

/** Every execution of `query`, newest first by start time, then id: what every page together must be. */
function expected(query: Query): string[] {
  return [...bucket.values()]
    .filter(
      (s) =>
        (query.workflowName === undefined || s.workflowName === query.workflowName) &&
        (query.status === undefined || s.status === query.status) &&
        s.executionName.startsWith(query.namePrefix ?? "") &&
        (query.startedAfter === undefined || (s.startTime as Date) >= query.startedAfter) &&
        (query.startedBefore === undefined || (s.startTime as Date) < query.startedBefore),
    )
    .sort((a, b) => {
      const byStart = (b.startTime as Date).getTime() - (a.startTime as Date).getTime();
      return byStart !== 0 ? byStart : a.executionId < b.executionId ? 1 : -1;
    })
    .map((s) => s.executionId);
}

/** Every page of `query` through the API, checking that no page but the last is short. */
async function listAll(query: Query): Promise<string[]> {
  const ids: string[] = [];
  let pageToken = "";
  for (let pages = 0; pages < 1_000; pages++) {
    const page = await client.listExecutions({ ...query, pageToken });
    ids.push(...page.executions.map((e) => e.executionId));
    if (page.nextPageToken === "") return ids;
    expect(page.executions).toHaveLength(query.pageSize);
    pageToken = page.nextPageToken;
  }
  throw new Error("more than 1,000 pages");
}

it("lists every execution of every filter, within and past the window, and counts them all", async () => {
  const total = 400;
  const order = Array.from({ length: total }, (_, i) => i).sort(
    (a, b) => ((a * 7919) % 401) - ((b * 7919) % 401),
  );
  for (let from = 0; from < total; from += 100) {
    await Promise.all(order.slice(from, from + 100).map((i) => put(summaryOf(i))));
  }
  // Old executions change after the window let them go: one ends, one is deleted.
  await put({ ...summaryOf(10), status: ABORTED, stopTime: new Date(NOW - 1_000) });
  const del = headers();
  del.set("KV-Operation", "DEL");
  await js.publish(`$KV.${buckets.executions}.e-0011`, new Uint8Array(), { headers: del });
  bucket.delete("e-0011");

  const mid = new Date(NOW - 3_600_000 + 120 * 1_000);
  const queries: Query[] = [
    { pageSize: 7 },
    { pageSize: 1_000 },
    { workflowName: "w1", pageSize: 9 },
    { status: FAILED, pageSize: 5 },
    { status: ABORTED, pageSize: 5 },
    { status: RUNNING, workflowName: "w2", pageSize: 4 },
    { namePrefix: "nightly-", pageSize: 11 },
    { startedAfter: mid, pageSize: 13 },
    { startedBefore: mid, pageSize: 13 },
    { startedAfter: new Date(NOW - 3_600_000 + 190 * 1_000), pageSize: 3 },
    { workflowName: "nobody", pageSize: 10 },
  ];
  for (const query of queries) {
    expect({ query, ids: await listAll(query) }).toEqual({ query, ids: expected(query) });
  }

  // The engine stats count every execution, not the window's.
  const stats = await client.getEngineStats(3_600);
  const all = [...bucket.values()];
  expect(stats.workflows).toEqual(summarizeWorkflows(all, 3_600_000, stats.readTime?.getTime() ?? 0));
  expect(stats.workflows.reduce((n, w) => n + w.running, 0)).toBe(
    all.filter((s) => s.status === RUNNING).length,
  );

  // Read your writes past the window: an old execution written now is on the next page that reaches it.
  await put({ ...summaryOf(-2), executionId: "e-late", workflowName: "w-late" });
  const late = await client.listExecutions({ workflowName: "w-late" });
  expect(late.executions.map((e) => e.executionId)).toEqual(["e-late"]);
  expect(await listAll({ pageSize: 50 })).toEqual(expected({ pageSize: 50 }));
});
