import { createServer } from "node:http";
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { NatsConnection } from "@nats-io/transport-node";
import { deliveryCounts } from "@jetflow/contracts/internal";
import type { TaskOutcome } from "./outcome";

/** Buckets of task latencies, in seconds: from a few milliseconds to an hour. */
const TASK_LATENCY_BUCKETS_S = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600,
];

/** What a task attempt's result says, as the `outcome` label. */
export type TaskOutcomeLabel = "succeeded" | "failed" | "timed_out" | "handed_back";

/** What the worker tells its metrics about each task. @internal */
export interface TaskObserver {
  /** A task was received and its handler is about to run. */
  started(activity: string, scheduledTime: Date | undefined): void;
  /** A task's handler ended (`seconds` from its start), its result published or the task handed back. */
  ended(activity: string, outcome: TaskOutcomeLabel, seconds: number): void;
}

/** The `outcome` label of a result. */
export function outcomeLabel(outcome: TaskOutcome): TaskOutcomeLabel {
  if (outcome.$case !== "failure") return "succeeded";
  return outcome.value.error === "States.Timeout" ? "timed_out" : "failed";
}

/**
 * Registers the worker's task metrics in `registry` and returns the observer that feeds them:
 * tasks started and ended per activity and outcome, tasks running, schedule-to-start (from the
 * task's schedule time to its handler's start, so clocks of the engine and the worker both count)
 * and start-to-close latency. @internal
 */
export function createTaskObserver(registry: Registry): TaskObserver {
  const started = new Counter({
    name: "jetflow_worker_tasks_started_total",
    help: "Task attempts whose handler this worker started, by activity",
    labelNames: ["activity"],
    registers: [registry],
  });
  const ended = new Counter({
    name: "jetflow_worker_tasks_ended_total",
    help: "Task attempts whose handler ended in this worker, by activity and outcome",
    labelNames: ["activity", "outcome"],
    registers: [registry],
  });
  const running = new Gauge({
    name: "jetflow_worker_tasks_running",
    help: "Handlers running now, by activity",
    labelNames: ["activity"],
    registers: [registry],
  });
  const scheduleToStart = new Histogram({
    name: "jetflow_worker_task_schedule_to_start_seconds",
    help: "Time from a task's scheduling by the engine to its handler's start, by activity",
    labelNames: ["activity"],
    buckets: TASK_LATENCY_BUCKETS_S,
    registers: [registry],
  });
  const startToClose = new Histogram({
    name: "jetflow_worker_task_start_to_close_seconds",
    help: "Time from a handler's start to its result (published or handed back), by activity and outcome",
    labelNames: ["activity", "outcome"],
    buckets: TASK_LATENCY_BUCKETS_S,
    registers: [registry],
  });
  return {
    started(activity, scheduledTime) {
      started.inc({ activity });
      running.inc({ activity });
      if (scheduledTime) {
        scheduleToStart.observe({ activity }, Math.max(0, (Date.now() - scheduledTime.getTime()) / 1000));
      }
    },
    ended(activity, outcome, seconds) {
      ended.inc({ activity, outcome });
      running.dec({ activity });
      startToClose.observe({ activity, outcome }, seconds);
    },
  };
}

/** A running metrics endpoint. */
export interface MetricsServer {
  readonly port: number;
  close(): Promise<void>;
}

/**
 * A registry with the default process metrics and the connection's reconnects, served at
 * `GET /metrics` on `host:port` (port 0 picks a free one). @internal
 */
export async function serveWorkerMetrics(
  registry: Registry,
  nc: NatsConnection,
  host: string,
  port: number,
): Promise<MetricsServer> {
  collectDefaultMetrics({ register: registry });
  const reconnects = new Counter({
    name: "jetflow_nats_reconnects_total",
    help: "Times this process reconnected to NATS after losing the connection",
    registers: [registry],
  });
  void (async () => {
    for await (const status of nc.status()) if (status.type === "reconnect") reconnects.inc();
  })();
  // The consume loop's counts of this process's task consumers, as the services report theirs.
  new Counter({
    name: "jetflow_consumer_deliveries_total",
    help: "Tasks the activity's consumer delivered to this worker, redeliveries included",
    labelNames: ["stream", "consumer"],
    registers: [registry],
    collect() {
      this.reset();
      for (const c of deliveryCounts()) this.inc({ stream: c.stream, consumer: c.consumer }, c.delivered);
    },
  });
  new Counter({
    name: "jetflow_consumer_redeliveries_total",
    help: "Tasks delivered to this worker again (a lost ack, a NAK, a dead worker before it)",
    labelNames: ["stream", "consumer"],
    registers: [registry],
    collect() {
      this.reset();
      for (const c of deliveryCounts()) this.inc({ stream: c.stream, consumer: c.consumer }, c.redelivered);
    },
  });
  const server = createServer((req, res) => {
    if ((req.url ?? "").split("?")[0] !== "/metrics") {
      res.writeHead(404).end();
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { "content-type": registry.contentType }).end(text),
      () => res.writeHead(500).end(),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address();
  return {
    port: typeof address === "object" && address ? address.port : port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export { Registry };
