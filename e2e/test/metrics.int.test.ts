/**
 * A real Prometheus scrapes every service's `/metrics` and a worker's metrics port while a known
 * workload runs; PromQL over its HTTP API then gives the counts the workload implies.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { jetstream } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { subjects } from "@jetflow/contracts";
import { connectTo, waitFor } from "@jetflow/testing";
import { runWorker } from "@jetflow/worker-sdk";
import type { RunningWorker } from "@jetflow/worker-sdk";
import { SERVICE_NAMES, startEngine, startPrometheus, statusOf, testActivities, waitForEnd } from "../src";
import type { Engine, Prometheus } from "../src";

let engine: Engine;
let nc: NatsConnection;
let worker: RunningWorker;
let prometheus: Prometheus;

beforeAll(async () => {
  engine = await startEngine({ healthPorts: true, env: { BACKLOG_SAMPLE_INTERVAL_MS: "500" } });
  nc = await connectTo(engine.natsUrl);
  worker = await runWorker(testActivities, {
    servers: engine.natsUrl,
    handleSignals: false,
    metricsPort: 0,
    metricsHost: "127.0.0.1",
  });
  const services = SERVICE_NAMES.flatMap((name) => engine.services[name]).map(
    (proc) => `127.0.0.1:${proc.healthPort ?? 0}`,
  );
  prometheus = await startPrometheus([
    { job: "jetflow", targets: services },
    { job: "worker", targets: [`127.0.0.1:${worker.metricsPort ?? 0}`] },
  ]);
});

afterAll(async () => {
  await prometheus?.stop();
  await worker?.shutdown();
  await nc?.close();
  await engine?.stop();
});

/** Waits until `promql` evaluates to `expected` (scrapes come every second). */
async function expectQuery(promql: string, expected: number): Promise<void> {
  let last: number | undefined;
  try {
    await waitFor(
      async () => {
        last = await prometheus.queryValue(promql);
        return last === expected;
      },
      { timeoutMs: 30_000, intervalMs: 250 },
    );
  } catch {
    throw new Error(`${promql} = ${last}, expected ${expected}`);
  }
}

it("counts a known workload in Prometheus: executions, tasks, latencies, backlog and dead letters", async () => {
  const chain = JSON.stringify({
    StartAt: "One",
    States: {
      One: { Type: "Task", Resource: "inc", Next: "Two" },
      Two: { Type: "Task", Resource: "inc", End: true },
    },
  });
  const failing = JSON.stringify({
    StartAt: "Flaky",
    States: {
      Flaky: {
        Type: "Task",
        Resource: "flaky",
        Retry: [{ ErrorEquals: ["Flaky"], IntervalSeconds: 1, MaxAttempts: 1, BackoffRate: 1 }],
        End: true,
      },
    },
  });
  // Three Map iterations: three child executions of one root execution.
  const mapped = JSON.stringify({
    StartAt: "Each",
    States: {
      Each: {
        Type: "Map",
        ItemsPath: "$.items",
        ItemProcessor: { StartAt: "Echo", States: { Echo: { Type: "Pass", End: true } } },
        End: true,
      },
    },
  });
  await engine.client.registerWorkflow({ name: "metrics-chain", definition: chain, description: "" });
  await engine.client.registerWorkflow({ name: "metrics-map", definition: mapped, description: "" });
  await engine.client.registerWorkflow({ name: "metrics-flaky", definition: failing, description: "" });
  const start = (workflowName: string, input: unknown) =>
    engine.client.startExecution({
      workflowName,
      workflowVersion: 0,
      inputJson: JSON.stringify(input),
      executionName: "",
    });
  const started = [
    ...(await Promise.all(Array.from({ length: 5 }, (_, n) => start("metrics-chain", { n })))),
    // Two attempts (one retry) fail: the execution fails after its retry.
    ...(await Promise.all(Array.from({ length: 2 }, () => start("metrics-flaky", { succeedOn: 9 })))),
    await start("metrics-map", { items: [1, 2, 3] }),
  ];
  const ended = await Promise.all(started.map(({ executionId }) => waitForEnd(engine.client, executionId)));
  expect(ended.map((d) => statusOf(d.execution?.status)).sort()).toEqual([
    ...Array<string>(2).fill("FAILED"),
    ...Array<string>(6).fill("SUCCEEDED"),
  ]);
  // Garbage on a results subject: the orchestrator, which reads the results, parks it.
  await jetstream(nc).publish(subjects.result("inc"), new Uint8Array([0xff, 0xff, 0x0f]));

  await expectQuery('count(up{job="jetflow"} == 1)', SERVICE_NAMES.length);
  await expectQuery('up{job="worker"}', 1);
  await expectQuery('sum(jetflow_executions_started_total{workflow="metrics-chain"})', 5);
  await expectQuery('sum(jetflow_executions_ended_total{status="SUCCEEDED",kind="root"})', 6);
  // Map iterations are counted as child executions, apart from the root ones.
  await expectQuery('sum(jetflow_executions_started_total{workflow="metrics-map",kind="root"})', 1);
  await expectQuery('sum(jetflow_executions_started_total{workflow="metrics-map",kind="child"})', 3);
  await expectQuery('sum(jetflow_executions_ended_total{status="SUCCEEDED",kind="child"})', 3);
  await expectQuery('sum(jetflow_executions_ended_total{status="SUCCEEDED"})', 9);
  await expectQuery('sum(jetflow_executions_ended_total{workflow="metrics-flaky",status="FAILED"})', 2);
  await expectQuery('sum(jetflow_tasks_scheduled_total{activity="inc"})', 10);
  await expectQuery('sum(jetflow_tasks_ended_total{activity="flaky",outcome="failed"})', 4);
  await expectQuery('sum(jetflow_task_schedule_to_close_seconds_count{activity="inc"})', 10);
  await expectQuery('sum(jetflow_states_entered_total{workflow="metrics-chain",state_type="Task"})', 10);
  await expectQuery('sum(jetflow_worker_tasks_ended_total{activity="inc",outcome="succeeded"})', 10);
  await expectQuery('sum(jetflow_worker_task_schedule_to_start_seconds_count{activity="flaky"})', 4);
  await expectQuery("sum(jetflow_worker_tasks_running)", 0);
  await expectQuery('sum(jetflow_state_commit_duration_seconds_count{result="ok"}) > bool 0', 1);
  // Backlog read from JetStream by the dispatcher: the worker holds open pulls, nothing waits.
  await expectQuery('max(jetflow_consumer_pending_messages{consumer="tasks-inc",activity="inc"})', 0);
  await expectQuery('max(jetflow_consumer_waiting_pulls{activity="inc"}) >= bool 1', 1);
  await expectQuery('sum(jetflow_dead_letters_parked_total{service="orchestrator"})', 1);
  await expectQuery('max(jetflow_dead_letters_stored_messages{parked_by="orchestrator"})', 1);
  // Every task result (10 + 4 + 3 + 2 + 1 + the garbage) was read by the orchestrators.
  await expectQuery('sum(jetflow_results_received_total{service="orchestrator"}) >= bool 11', 1);
  await expectQuery('sum(jetflow_consumer_deliveries_total{consumer="orchestrator"}) > bool 0', 1);
  await expectQuery('max(process_resident_memory_bytes{service="orchestrator"}) > bool 0', 1);
  await expectQuery("sum(jetflow_nats_connected)", SERVICE_NAMES.length);
});

/** The jetflow metric names a text mentions, a histogram's suffixes taken off. */
function jetflowMetricNames(text: string): Set<string> {
  return new Set(
    [...text.matchAll(/\bjetflow_[a-z0-9_]+/g)].map(([name]) => name.replace(/_(bucket|count|sum)$/, "")),
  );
}

it("answers every dashboard query, has every metric the dashboard and alerts use, and all are documented", async () => {
  const root = resolve(__dirname, "..", "..");
  const dashboard = JSON.parse(
    readFileSync(resolve(root, "deploy/observability/grafana-dashboard.json"), "utf8"),
  ) as {
    panels: { targets?: { expr: string }[] }[];
  };
  const expressions = dashboard.panels.flatMap((panel) => (panel.targets ?? []).map((t) => t.expr));
  // Throws on any expression Prometheus cannot parse or evaluate.
  for (const expr of expressions) await prometheus.query(expr);

  const used = jetflowMetricNames(
    `${expressions.join("\n")}\n${readFileSync(resolve(root, "deploy/observability/alerts.yaml"), "utf8")}`,
  );
  const present = async () =>
    jetflowMetricNames(
      (await prometheus.query('count by (__name__) ({__name__=~"jetflow_.+"})'))
        .map((s) => s.metric["__name__"] ?? "")
        .join("\n"),
    );
  // The first test's workload has run and been scraped: everything used is there.
  const names = await present();
  expect([...used].filter((name) => !names.has(name))).toEqual([]);
  const documented = jetflowMetricNames(readFileSync(resolve(root, "docs/metrics.md"), "utf8"));
  expect([...names].filter((name) => !documented.has(name))).toEqual([]);
});
