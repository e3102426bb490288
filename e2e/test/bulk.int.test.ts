/**
 * Bulk stop and bulk redrive end to end, with two api-gateway replicas: 1,000 executions stopped
 * by one tracked operation, an operation resumed from its last recorded batch after every gateway
 * is killed mid-way, and 200 failed executions redriven by one operation once their activity is
 * repaired.
 */
import type { BulkOperation } from "@jetflow/contracts";
import { BulkAction, BulkOperationState, ExecutionStatus } from "@jetflow/contracts";
import { waitFor } from "@jetflow/testing";
import { spawn } from "node:child_process";
import { resolve } from "node:path";
import { Metadata } from "@grpc/grpc-js";
import type { ServiceError } from "@grpc/grpc-js";
import { createWorker } from "@jetflow/worker-sdk";
import type { Worker } from "@jetflow/worker-sdk";
import { statusOf } from "../src";
import type { TestClient } from "../src";
import { useEngine } from "./fixture";

const fixture = useEngine({
  replicas: { "api-gateway": 2 },
  serviceEnv: {
    "api-gateway": {
      BULK_BATCH_SIZE: "50",
      BULK_BATCH_INTERVAL_MS: "250",
      BULK_LEASE_MS: "3000",
      BULK_POLL_MS: "200",
    },
  },
});

const HOLD = JSON.stringify({ StartAt: "W", States: { W: { Type: "Wait", Seconds: 3600, End: true } } });

const FLAKY = JSON.stringify({
  StartAt: "T",
  States: { T: { Type: "Task", Resource: "bulk-flaky", TimeoutSeconds: 120, End: true } },
});
/** While true, the bulk-flaky activity fails. */
let broken = true;
let flakyWorker: Worker;

beforeAll(async () => {
  for (const name of ["bulk-hold", "bulk-other"]) {
    await fixture.engine.client.registerWorkflow({ name, definition: HOLD, description: "" });
  }
  await fixture.engine.client.registerWorkflow({ name: "bulk-flaky", definition: FLAKY, description: "" });
  flakyWorker = createWorker({
    nc: fixture.nc,
    concurrency: 20,
    handlers: {
      "bulk-flaky": (input: unknown) => {
        if (broken) {
          const err = new Error("the activity is broken");
          err.name = "Broken";
          throw err;
        }
        return { repaired: input };
      },
    },
  });
  await flakyWorker.start();
});

afterAll(async () => {
  await flakyWorker?.stop();
});

type Raw = TestClient["raw"];
function call<Req, Res>(method: keyof Raw, request: Req): Promise<Res> {
  const raw = fixture.engine.client.raw;
  const fn = (
    raw[method] as unknown as (
      r: Req,
      m: Metadata,
      o: { deadline: Date },
      cb: (e: ServiceError | null, r: Res) => void,
    ) => void
  ).bind(raw);
  return new Promise((resolve, reject) =>
    fn(request, new Metadata(), { deadline: new Date(Date.now() + 30_000) }, (e, r) =>
      e ? reject(e) : resolve(r),
    ),
  );
}

const describeOp = async (operationId: string): Promise<BulkOperation> =>
  (await call<unknown, { operation: BulkOperation }>("describeBulkOperation", { operationId })).operation;

async function startMany(workflowName: string, count: number, prefix: string): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i += 50) {
    const chunk = await Promise.all(
      Array.from({ length: Math.min(50, count - i) }, (_, j) =>
        fixture.engine.client.startExecution({
          workflowName,
          workflowVersion: 0,
          inputJson: "{}",
          executionName: `${prefix}-${i + j}`,
        }),
      ),
    );
    ids.push(...chunk.map((s) => s.executionId));
  }
  return ids;
}

/** How many of `ids` are in each status (and, with `redrives`, how many were redriven that often). */
async function statuses(ids: readonly string[], redrives?: number): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (let i = 0; i < ids.length; i += 100) {
    const described = await Promise.all(
      ids.slice(i, i + 100).map((executionId) => fixture.engine.client.describeExecution({ executionId })),
    );
    for (const d of described) {
      const name = statusOf(d.execution?.status);
      counts[name] = (counts[name] ?? 0) + 1;
      if (redrives !== undefined && d.execution?.redriveCount === redrives) {
        counts[`redriven ${redrives}`] = (counts[`redriven ${redrives}`] ?? 0) + 1;
      }
    }
  }
  return counts;
}

async function waitStatuses(ids: readonly string[], expected: Record<string, number>, redrives?: number) {
  await waitFor(
    async () => {
      const seen = await statuses(ids, redrives);
      // Thrown, so that a timeout says what was seen last.
      if (JSON.stringify(seen) !== JSON.stringify(expected)) throw new Error(`saw ${JSON.stringify(seen)}`);
      return true;
    },
    { timeoutMs: 180_000, intervalMs: 1000, message: `executions ${JSON.stringify(expected)}` },
  );
}

/** Runs the jetflow command against the engine. */
function cli(...args: string[]): Promise<{ code: number | null; stdout: string }> {
  return new Promise((done, reject) => {
    const child = spawn(process.execPath, [resolve(__dirname, "../../packages/cli/dist/main.js"), ...args], {
      env: { PATH: process.env.PATH, JETFLOW_ADDR: fixture.engine.grpcAddress },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.once("error", reject);
    child.once("close", (code) => done({ code, stdout }));
  });
}

async function waitCompleted(operationId: string, timeoutMs = 240_000): Promise<BulkOperation> {
  return waitFor(
    async () => {
      const op = await describeOp(operationId).catch(() => undefined);
      return op?.state === BulkOperationState.BULK_OPERATION_STATE_COMPLETED ? op : undefined;
    },
    { timeoutMs, intervalMs: 250, message: `bulk operation ${operationId} did not complete` },
  );
}

it("stops 1,000 executions as one tracked operation and nothing else", async () => {
  const ids = await startMany("bulk-hold", 1000, "thousand");
  const bystander = await startMany("bulk-other", 1, "thousand");
  const started = await call<unknown, { operation: BulkOperation; created: boolean }>("startBulkStop", {
    filter: {
      workflowName: "bulk-hold",
      namePrefix: "thousand-",
      status: ExecutionStatus.EXECUTION_STATUS_UNSPECIFIED,
    },
    error: "BulkStopped",
    cause: "runaway",
    requestId: "thousand",
  });
  expect(started.created).toBe(true);
  expect(started.operation.matched).toBe(1000);
  // A retried start returns the same operation.
  const retried = await call<unknown, { operation: BulkOperation; created: boolean }>("startBulkStop", {
    filter: {
      workflowName: "bulk-hold",
      namePrefix: "thousand-",
      status: ExecutionStatus.EXECUTION_STATUS_UNSPECIFIED,
    },
    error: "BulkStopped",
    cause: "runaway",
    requestId: "thousand",
  });
  expect(retried.created).toBe(false);
  expect(retried.operation.operationId).toBe(started.operation.operationId);
  // Started after the operation: not matched.
  const late = await startMany("bulk-hold", 1, "thousand-late");

  const op = await waitCompleted(started.operation.operationId);
  expect({ matched: op.matched, done: op.done + op.skipped, failed: op.failed }).toEqual({
    matched: 1000,
    done: 1000,
    failed: 0,
  });
  await waitFor(async () => ((await statuses(ids))["ABORTED"] === 1000 ? true : undefined), {
    timeoutMs: 120_000,
    intervalMs: 1000,
    message: "not every execution ended ABORTED",
  });
  const one = await fixture.engine.client.describeExecution({ executionId: ids[0] as string });
  expect(one.error).toBe("BulkStopped");
  expect(await statuses([...bystander, ...late])).toEqual({ RUNNING: 2 });

  const listed = await call<unknown, { operations: BulkOperation[] }>("listBulkOperations", {
    pageSize: 10,
    pageToken: "",
  });
  expect(listed.operations.map((o) => o.operationId)).toContain(op.operationId);
});

it("resumes an operation after every gateway is killed mid-way", async () => {
  const ids = await startMany("bulk-hold", 400, "resume");
  const { operation } = await call<unknown, { operation: BulkOperation }>("startBulkStop", {
    filter: {
      workflowName: "bulk-hold",
      namePrefix: "resume-",
      status: ExecutionStatus.EXECUTION_STATUS_UNSPECIFIED,
    },
    error: "",
    cause: "",
    requestId: "resume",
  });
  expect(operation.matched).toBe(400);
  const midway = await waitFor(
    async () => {
      const op = await describeOp(operation.operationId);
      return op.done >= 50 ? op : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 50 },
  );
  expect(midway.state).toBe(BulkOperationState.BULK_OPERATION_STATE_RUNNING);
  await fixture.engine.crashAndRestart("api-gateway");
  const afterRestart = await waitFor(() => describeOp(operation.operationId).catch(() => undefined), {
    timeoutMs: 60_000,
  });
  // What was recorded before the crash is kept: the operation goes on from its cursor.
  expect(afterRestart.done).toBeGreaterThanOrEqual(midway.done);
  const op = await waitCompleted(operation.operationId);
  expect(op.done + op.skipped).toBe(400);
  expect(op.failed).toBe(0);
  await waitFor(async () => ((await statuses(ids))["ABORTED"] === 400 ? true : undefined), {
    timeoutMs: 120_000,
    intervalMs: 1000,
    message: "not every execution ended ABORTED",
  });
});

it("is driven by the jetflow command: bulk stop --wait, describe, list", async () => {
  const [id] = await startMany("bulk-other", 1, "cli");
  const stopped = await cli(
    "--json",
    "bulk",
    "stop",
    "--workflow",
    "bulk-other",
    "--name-prefix",
    "cli-",
    "--wait",
  );
  expect(stopped.code).toBe(0);
  const op = JSON.parse(stopped.stdout) as {
    operationId: string;
    state: string;
    matched: number;
    done: number;
  };
  expect(op).toMatchObject({ state: "COMPLETED", matched: 1, done: 1 });
  const described = await cli("bulk", "describe", op.operationId);
  expect(described.stdout).toMatch(/Progress\s+1\/1 \(done 1, skipped 0, failed 0\)/);
  const listed = await cli("bulk", "list");
  expect(listed.stdout).toContain(op.operationId);
  await waitFor(async () => ((await statuses([id as string]))["ABORTED"] === 1 ? true : undefined), {
    timeoutMs: 60_000,
  });
});

it("redrives 200 failed executions as one tracked operation once their activity is repaired", async () => {
  broken = true;
  const ids = await startMany("bulk-flaky", 200, "flaky");
  await waitStatuses(ids, { FAILED: 200 });
  // Not matched: another prefix, or still running.
  const [otherPrefix] = await startMany("bulk-flaky", 1, "spare");
  await waitStatuses([otherPrefix as string], { FAILED: 1 });
  const [holding] = await startMany("bulk-hold", 1, "flaky-hold");

  broken = false;
  const request = {
    filter: {
      workflowName: "bulk-flaky",
      namePrefix: "flaky-",
      status: ExecutionStatus.EXECUTION_STATUS_UNSPECIFIED,
    },
    requestId: "redrive-200",
  };
  const started = await call<unknown, { operation: BulkOperation; created: boolean }>(
    "startBulkRedrive",
    request,
  );
  expect(started.created).toBe(true);
  expect(started.operation.action).toBe(BulkAction.BULK_ACTION_REDRIVE);
  expect(started.operation.matched).toBe(200);
  const retried = await call<unknown, { operation: BulkOperation; created: boolean }>(
    "startBulkRedrive",
    request,
  );
  expect({ id: retried.operation.operationId, created: retried.created }).toEqual({
    id: started.operation.operationId,
    created: false,
  });
  // A status a redrive does not apply to is refused.
  const refused = await call("startBulkRedrive", {
    filter: { ...request.filter, status: ExecutionStatus.EXECUTION_STATUS_RUNNING },
    requestId: "",
  }).catch((err: ServiceError) => err);
  expect((refused as ServiceError).code).toBe(3);

  const op = await waitCompleted(started.operation.operationId);
  expect({ matched: op.matched, done: op.done, skipped: op.skipped, failed: op.failed }).toEqual({
    matched: 200,
    done: 200,
    skipped: 0,
    failed: 0,
  });
  // Every one ran again, once, and succeeded.
  await waitStatuses(ids, { SUCCEEDED: 200, "redriven 1": 200 }, 1);
  expect(await statuses([otherPrefix as string], 0)).toEqual({ FAILED: 1, "redriven 0": 1 });
  expect(await statuses([holding as string])).toEqual({ RUNNING: 1 });
  await fixture.engine.client.stopExecution({ executionId: holding as string, error: "", cause: "" });
});

it("is driven by the jetflow command: bulk redrive --wait", async () => {
  broken = true;
  const [id] = await startMany("bulk-flaky", 1, "cli-flaky");
  await waitStatuses([id as string], { FAILED: 1 });
  broken = false;
  const redriven = await cli(
    "--json",
    "bulk",
    "redrive",
    "--workflow",
    "bulk-flaky",
    "--name-prefix",
    "cli-flaky-",
    "--status",
    "failed",
    "--wait",
  );
  expect(redriven.code).toBe(0);
  const op = JSON.parse(redriven.stdout) as Record<string, unknown>;
  expect(op).toMatchObject({ action: "redrive", state: "COMPLETED", matched: 1, done: 1, skipped: 0 });
  const described = await cli("bulk", "describe", op["operationId"] as string);
  expect(described.stdout).toMatch(/Action\s+redrive/);
  expect(described.stdout).toMatch(/status=failed/);
  await waitStatuses([id as string], { SUCCEEDED: 1, "redriven 1": 1 }, 1);
  const wrongStatus = await cli("bulk", "redrive", "--workflow", "bulk-flaky", "--status", "succeeded");
  expect(wrongStatus.code).not.toBe(0);
  // And over HTTP/JSON.
  const res = await fetch(`${fixture.engine.httpUrl}/v1/bulk-operations:redrive`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      filter: { workflowName: "bulk-flaky", namePrefix: "none-", status: "EXECUTION_STATUS_FAILED" },
    }),
  });
  expect(res.status).toBe(200);
  const body = (await res.json()) as { operation: Record<string, unknown>; created: boolean };
  expect(body.created).toBe(true);
  expect(body.operation).toMatchObject({
    action: "BULK_ACTION_REDRIVE",
    state: "BULK_OPERATION_STATE_COMPLETED",
  });
});
