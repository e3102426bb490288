/**
 * The workloads run on the engine: executions started over gRPC through the api-gateway, their
 * ends seen on the events subjects (see EventWatcher), snapshot sizes read from the KV bucket.
 */
import { buckets } from "@jetflow/contracts";
import type { TestClient } from "@jetflow/e2e";
import { jetstream } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import type { KV } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import type { EventWatcher, SeenEnd } from "./event-watcher";
import { deadline, nowMs, toFigures } from "./figures";
import type { ExecutionTiming, RunFigures } from "./figures";
import { mapLimit } from "./stats";
import { chainWorkflow, fanOutInput, fanOutWorkflow, generatedFanOutWorkflow } from "./workflows";

/** Most StartExecution calls in flight at once: enough to keep the gateway busy. */
const START_CONCURRENCY = 256;

/** What the engine runs need. */
export interface EngineRunsOptions {
  client: TestClient;
  nc: NatsConnection;
  watcher: EventWatcher;
  /** Bound on one run, in milliseconds. */
  timeoutMs: number;
  /** TimeoutSeconds of every Task of the chains (0: none). */
  taskTimeoutSeconds: number;
}

function outputN(end: SeenEnd): number | undefined {
  if (!end.succeeded || end.outputJson === undefined) return undefined;
  try {
    const output = JSON.parse(end.outputJson) as { n?: unknown };
    return typeof output.n === "number" ? output.n : undefined;
  } catch {
    return undefined;
  }
}

/** Runs workloads on the engine; `prepare()` registers the workflows first. */
export class EngineRuns {
  private kv?: KV;
  /** The first unexpected ending seen, for the report. */
  firstProblem?: string;

  constructor(private readonly o: EngineRunsOptions) {}

  /** Registers every workflow the runs use (idempotent: same content, same version). */
  async prepare(chainLengths: readonly number[]): Promise<void> {
    const chains = [...new Set(chainLengths)].map((steps) => chainWorkflow(steps, this.o.taskTimeoutSeconds));
    for (const wf of chains.concat(fanOutWorkflow(), generatedFanOutWorkflow())) {
      await this.o.client.registerWorkflow({ name: wf.name, definition: wf.definition, description: "" });
    }
    this.kv = await new Kvm(jetstream(this.o.nc)).open(buckets.instances);
  }

  /**
   * Starts `executions` executions of a chain of `steps` Tasks at once (input `{n: 0}`) and waits
   * for all to end; each must succeed with `{n: steps}`.
   */
  chains(executions: number, steps: number, recordSteps = false): Promise<ExecutionTiming[]> {
    const workflowName = chainWorkflow(steps, this.o.taskTimeoutSeconds).name;
    return this.startAndWait(
      "chains",
      executions,
      () => ({ workflowName, inputJson: '{"n":0}' }),
      steps,
      recordSteps,
    );
  }

  /**
   * One execution of the fan-out workflow over `items` items (a Map with no cap, a Task per item,
   * then a join Task); it must succeed with `{n: items + 1}`. Samples the size of its snapshot
   * while it runs.
   */
  fanOut(items: number): Promise<RunFigures> {
    return this.oneMap(items, fanOutWorkflow().name, fanOutInput(items));
  }

  /** W5: the fan-out whose items are made inside the workflow (see generatedFanOutWorkflow). */
  generatedFanOut(items: number): Promise<RunFigures> {
    return this.oneMap(items, generatedFanOutWorkflow().name, JSON.stringify({ items }));
  }

  private async oneMap(items: number, workflowName: string, inputJson: string): Promise<RunFigures> {
    const firstStartMs = nowMs();
    this.o.watcher.resetLargest();
    let snapshotBytesMax = 0;
    let executionId: string | undefined;
    let done = false;
    const sampleSnapshot = async (): Promise<void> => {
      while (!done) {
        if (executionId !== undefined && this.kv) {
          const entry = await this.kv.get(executionId).catch(() => null);
          if (entry) snapshotBytesMax = Math.max(snapshotBytesMax, entry.value.length);
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    };
    const sampling = sampleSnapshot();
    let timings: ExecutionTiming[];
    try {
      timings = await this.startAndWait(
        "fan-out",
        1,
        () => ({ workflowName, inputJson }),
        items + 1,
        false,
        (id) => (executionId = id),
      );
    } finally {
      done = true;
      await sampling;
    }
    if (executionId !== undefined && this.kv) {
      const entry = await this.kv.get(executionId).catch(() => null);
      if (entry) snapshotBytesMax = Math.max(snapshotBytesMax, entry.value.length);
    }
    return {
      ...toFigures(timings, 0, firstStartMs, items + 1),
      snapshotBytesMax,
      batchBytesMax: this.o.watcher.largestBatchBytes,
    };
  }

  private async startAndWait(
    what: string,
    executions: number,
    request: (i: number) => { workflowName: string; inputJson: string },
    expectedN: number,
    recordSteps: boolean,
    onStarted?: (executionId: string) => void,
  ): Promise<ExecutionTiming[]> {
    const { client, watcher } = this.o;
    const ids: string[] = [];
    // Executions that do not end within the bound count as failed (unfinished); the run goes on.
    const bound = deadline(this.o.timeoutMs);
    try {
      const started = await mapLimit(
        Array.from({ length: executions }, (_, i) => i),
        START_CONCURRENCY,
        async (i) => {
          const { workflowName, inputJson } = request(i);
          const startMs = nowMs();
          const { executionId } = await client.startExecution({
            workflowName,
            workflowVersion: 0,
            inputJson,
            executionName: "",
          });
          ids.push(executionId);
          onStarted?.(executionId);
          return { executionId, startMs };
        },
      );
      return await Promise.all(
        started.map(async ({ executionId, startMs }): Promise<ExecutionTiming> => {
          const end = await Promise.race([watcher.ended(executionId), bound.expired]);
          if (!end) {
            this.firstProblem ??= `${executionId} (${what}) did not end within ${this.o.timeoutMs} ms`;
            return { startMs, ok: false };
          }
          const ok = outputN(end) === expectedN;
          if (!ok) this.firstProblem ??= `${executionId}: ${end.error ?? `output ${end.outputJson}`}`;
          return {
            startMs,
            endMs: end.seenMs,
            ok,
            ...(recordSteps ? { scheduledMs: watcher.scheduled(executionId) } : {}),
          };
        }),
      );
    } finally {
      bound.cancel();
      watcher.forget(ids);
    }
  }
}
