/**
 * Two gateways' bulk processors sharing one operation bucket: the lease lets one process an
 * operation at a time, so each execution is stopped (or redriven) once, and the operation completes
 * with every match counted.
 */
import { BulkAction, ExecutionStatus } from "@jetflow/contracts";
import type { ExecutionSummary } from "@jetflow/contracts";
import { connectTo, startNatsServer, uniqueName, waitFor } from "@jetflow/testing";
import type { NatsServer } from "@jetflow/testing";
import { jetstream } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import type { KV } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import pino from "pino";
import { BulkOperations } from "../src/bulk-operations";
import { ApiError } from "../src/errors";
import { ExecutionIndex } from "../src/execution-index";
import type { IndexScan } from "../src/execution-index";
import { ExecutionList } from "../src/execution-list";
import { KvView } from "../src/kv-view";

const log = pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" });
let server: NatsServer;
let nc: NatsConnection;
let bulkKv: KV;
let indexKv: KV;

beforeAll(async () => {
  server = await startNatsServer();
  nc = await connectTo(server.url);
  const kvm = new Kvm(jetstream(nc));
  bulkKv = await kvm.create(uniqueName("bulk"));
  // Empty: the list below is filled directly, and an empty bucket's view is always in sync.
  indexKv = await kvm.create(uniqueName("index"));
});

afterAll(async () => {
  await nc?.close();
  await server?.dispose();
});

/** The index over a list that holds every execution (no capacity): it never reads a bucket. */
function wholeIndex(list: ExecutionList, view: KvView): ExecutionIndex {
  return new ExecutionIndex({
    list,
    view,
    scan: () => Promise.reject(new Error("a scan of a complete window")),
    get: (id) => Promise.resolve(list.get(id)),
  });
}

/**
 * The index of a bucket (a map here, written by the fake engine below) and a window of
 * `capacity` over it, fed each write as the gateway's KV watch feeds it.
 */
function indexOver(capacity: number, view: KvView) {
  const bucket = new Map<string, ExecutionSummary>();
  const list = new ExecutionList(capacity);
  const scan: IndexScan = (visit) => {
    for (const summary of bucket.values()) visit(summary);
    return Promise.resolve();
  };
  const index = new ExecutionIndex({
    list,
    view,
    scan,
    get: (id) => Promise.resolve(bucket.get(id)),
  });
  return {
    index,
    put(summary: ExecutionSummary) {
      bucket.set(summary.executionId, summary);
      list.upsert(summary);
    },
    current: (id: string) => bucket.get(id),
    all: () => [...bucket.values()],
  };
}

function running(i: number): ExecutionSummary {
  return {
    executionId: `e-${String(i).padStart(4, "0")}`,
    executionName: `n-${i}`,
    workflowName: "w",
    workflowVersion: 1,
    status: ExecutionStatus.EXECUTION_STATUS_RUNNING,
    startTime: new Date(1_000_000 + i),
    stopTime: undefined,
    redriveCount: 0,
    scheduleId: "",
  };
}

it.each([
  ["a window holding every execution", Number.POSITIVE_INFINITY],
  ["a window of 30, the rest read from the bucket", 30],
])(
  "lets one of two processors stop each execution once, and completes the operation (%s)",
  async (_, capacity) => {
    const indexView = new KvView({ kv: indexKv, apply: () => undefined, log });
    await indexView.start();
    const { index, put, current } = indexOver(capacity, indexView);
    for (let i = 0; i < 500; i++) put(running(i));
    const stops = new Map<string, number>();
    const stop = (executionId: string) => {
      stops.set(executionId, (stops.get(executionId) ?? 0) + 1);
      const summary = current(executionId);
      if (summary?.status !== ExecutionStatus.EXECUTION_STATUS_RUNNING) {
        return Promise.reject(ApiError.precondition(`execution "${executionId}" is not running`));
      }
      put({ ...summary, status: ExecutionStatus.EXECUTION_STATUS_ABORTED, stopTime: new Date() });
      return Promise.resolve();
    };
    const processors = [0, 1].map(() => {
      const ops: BulkOperations = new BulkOperations({
        kv: bulkKv,
        executionIndex: index,
        stop,
        redrive: () => Promise.reject(new Error("no redrive here")),
        config: { batchSize: 20, batchIntervalMs: 0, leaseMs: 5_000, pollMs: 50 },
        log,
      });
      const view = new KvView({ kv: bulkKv, apply: (entry) => ops.apply(entry), log });
      return { ops, view };
    });
    for (const { ops, view } of processors) {
      await view.start();
      ops.start(view);
    }
    try {
      const first = processors[0] as { ops: BulkOperations };
      const { operation } = await first.ops.startStop(
        {
          filter: {
            workflowName: "w",
            status: 0,
            namePrefix: "",
            startedAfter: undefined,
            startedBefore: undefined,
          },
          error: "",
          cause: "",
          requestId: `lease-${capacity}`,
        },
        undefined,
      );
      expect(operation.matched).toBe(500);
      const done = await waitFor(
        async () => {
          const op = await first.ops.describe(operation.operationId);
          return op.endTime !== undefined ? op : undefined;
        },
        { timeoutMs: 60_000, intervalMs: 50 },
      );
      expect({ done: done.done, skipped: done.skipped, failed: done.failed }).toEqual({
        done: 500,
        skipped: 0,
        failed: 0,
      });
      expect(stops.size).toBe(500);
      expect([...stops.values()].every((count) => count === 1)).toBe(true);
      // The count at the start and the batches read ahead: a few scans, not one per batch of 20.
      expect(index.scans).toBeLessThan(capacity === 30 ? 6 : 1);
    } finally {
      for (const { ops, view } of processors) {
        await ops.stop();
        view.stop();
      }
      indexView.stop();
    }
  },
);

it("is taken over by another processor when its holder stops writing, and the late holder's write is refused", async () => {
  const list = new ExecutionList();
  for (let i = 0; i < 100; i++) list.upsert({ ...running(i), workflowName: "stuck" });
  let release: () => void = () => undefined;
  const released = new Promise<void>((resolve) => (release = resolve));
  let hung = 0;
  const markStopped = (executionId: string) => {
    const current = [...list.summaries()].find((s) => s.executionId === executionId);
    if (current?.status !== ExecutionStatus.EXECUTION_STATUS_RUNNING) {
      throw ApiError.precondition(`execution "${executionId}" is not running`);
    }
    list.upsert({ ...current, status: ExecutionStatus.EXECUTION_STATUS_ABORTED, stopTime: new Date() });
  };
  const indexView = new KvView({ kv: indexKv, apply: () => undefined, log });
  await indexView.start();
  const make = (stop: (executionId: string) => Promise<unknown>) => {
    const ops: BulkOperations = new BulkOperations({
      kv: bulkKv,
      executionIndex: wholeIndex(list, indexView),
      stop,
      redrive: () => Promise.reject(new Error("no redrive here")),
      config: { batchSize: 20, batchIntervalMs: 0, leaseMs: 1_000, pollMs: 50 },
      log,
    });
    const view = new KvView({ kv: bulkKv, apply: (entry) => ops.apply(entry), log });
    return { ops, view };
  };
  // The first holder hangs in its first batch, as a process that froze or lost its network.
  const stuck = make(async () => {
    hung++;
    await released;
    // Its stops went through in the end: it will try to write that batch's progress.
  });
  const healthy = make((executionId) => {
    try {
      markStopped(executionId);
      return Promise.resolve();
    } catch (err) {
      return Promise.reject(err);
    }
  });
  await stuck.view.start();
  stuck.ops.start(stuck.view);
  try {
    const { operation } = await stuck.ops.startStop(
      {
        filter: {
          workflowName: "stuck",
          status: 0,
          namePrefix: "",
          startedAfter: undefined,
          startedBefore: undefined,
        },
        error: "",
        cause: "",
        requestId: "takeover",
      },
      undefined,
    );
    await waitFor(() => (hung > 0 ? true : undefined), { timeoutMs: 30_000 });
    await healthy.view.start();
    healthy.ops.start(healthy.view);
    const completed = await waitFor(
      async () => {
        const op = await healthy.ops.describe(operation.operationId);
        return op.endTime !== undefined ? op : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 50 },
    );
    expect(completed.done + completed.skipped).toBe(100);
    expect([...list.summaries()].every((s) => s.status === ExecutionStatus.EXECUTION_STATUS_ABORTED)).toBe(
      true,
    );
    // The late holder wakes up: its batch fails, and nothing it writes replaces the outcome.
    release();
    await stuck.ops.stop();
    const after = await healthy.ops.describe(operation.operationId);
    expect(after).toEqual(completed);
  } finally {
    release();
    for (const { ops, view } of [stuck, healthy]) {
      await ops.stop();
      view.stop();
    }
    indexView.stop();
  }
});

it("redrives each FAILED, TIMED_OUT or ABORTED match once, and counts a refused one as skipped with the reason", async () => {
  const list = new ExecutionList();
  const ended = new Date(500_000);
  const statuses = [
    ExecutionStatus.EXECUTION_STATUS_FAILED,
    ExecutionStatus.EXECUTION_STATUS_TIMED_OUT,
    ExecutionStatus.EXECUTION_STATUS_ABORTED,
    ExecutionStatus.EXECUTION_STATUS_SUCCEEDED,
    ExecutionStatus.EXECUTION_STATUS_RUNNING,
  ];
  // 150 of each status; the redrive of e-0000 is refused, as one that ended too long ago is.
  for (let i = 0; i < 750; i++) {
    const status = statuses[i % statuses.length] as ExecutionStatus;
    list.upsert({
      ...running(i),
      workflowName: "redrive",
      status,
      stopTime: status === ExecutionStatus.EXECUTION_STATUS_RUNNING ? undefined : ended,
    });
  }
  const redrives = new Map<string, number>();
  const identities = new Set<string | undefined>();
  const redrive = (executionId: string, identity?: string) => {
    redrives.set(executionId, (redrives.get(executionId) ?? 0) + 1);
    identities.add(identity);
    if (executionId === "e-0000") {
      return Promise.reject(
        ApiError.precondition(
          `execution "${executionId}" cannot be redriven: it ended more than 14 days ago`,
        ),
      );
    }
    const current = [...list.summaries()].find((s) => s.executionId === executionId);
    if (current === undefined) return Promise.reject(ApiError.notFound(executionId));
    list.upsert({
      ...current,
      status: ExecutionStatus.EXECUTION_STATUS_RUNNING,
      stopTime: undefined,
      redriveCount: 1,
    });
    return Promise.resolve();
  };
  const indexView = new KvView({ kv: indexKv, apply: () => undefined, log });
  await indexView.start();
  const processors = [0, 1].map(() => {
    const ops: BulkOperations = new BulkOperations({
      kv: bulkKv,
      executionIndex: wholeIndex(list, indexView),
      stop: () => Promise.reject(new Error("no stop here")),
      redrive,
      config: { batchSize: 40, batchIntervalMs: 0, leaseMs: 5_000, pollMs: 50 },
      log,
    });
    const view = new KvView({ kv: bulkKv, apply: (entry) => ops.apply(entry), log });
    return { ops, view };
  });
  for (const { ops, view } of processors) {
    await view.start();
    ops.start(view);
  }
  try {
    const first = processors[0] as { ops: BulkOperations };
    const filter = {
      workflowName: "redrive",
      status: ExecutionStatus.EXECUTION_STATUS_UNSPECIFIED,
      namePrefix: "",
      startedAfter: undefined,
      startedBefore: undefined,
    };
    // RUNNING is not a status a redrive applies to.
    await expect(
      first.ops.startRedrive(
        { filter: { ...filter, status: ExecutionStatus.EXECUTION_STATUS_RUNNING }, requestId: "" },
        undefined,
      ),
    ).rejects.toThrow(/a redrive applies to FAILED, TIMED_OUT or ABORTED executions only/);
    const { operation, created } = await first.ops.startRedrive({ filter, requestId: "redrive" }, "ops-bot");
    expect(created).toBe(true);
    expect(operation.action).toBe(BulkAction.BULK_ACTION_REDRIVE);
    expect(operation.matched).toBe(450);
    // The same request id names the same operation; a stop with it is another one.
    const again = await first.ops.startRedrive({ filter, requestId: "redrive" }, "ops-bot");
    expect({ id: again.operation.operationId, created: again.created }).toEqual({
      id: operation.operationId,
      created: false,
    });
    const done = await waitFor(
      async () => {
        const op = await first.ops.describe(operation.operationId);
        return op.endTime !== undefined ? op : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 50 },
    );
    expect({
      done: done.done,
      skipped: done.skipped,
      failed: done.failed,
      reason: done.lastSkipReason,
    }).toEqual({
      done: 449,
      skipped: 1,
      failed: 0,
      reason: 'execution "e-0000" cannot be redriven: it ended more than 14 days ago',
    });
    expect(redrives.size).toBe(450);
    expect([...redrives.values()].every((count) => count === 1)).toBe(true);
    // Each redrive is recorded as the operation's creator's.
    expect([...identities]).toEqual(["ops-bot"]);
    const untouched = [...list.summaries()].filter((s) => !redrives.has(s.executionId));
    expect(new Set(untouched.map((s) => s.status))).toEqual(
      new Set([ExecutionStatus.EXECUTION_STATUS_SUCCEEDED, ExecutionStatus.EXECUTION_STATUS_RUNNING]),
    );
  } finally {
    for (const { ops, view } of processors) {
      await ops.stop();
      view.stop();
    }
    indexView.stop();
  }
});
