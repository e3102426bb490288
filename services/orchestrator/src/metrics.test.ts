import { EventBatch, ExecutionSnapshot, ExecutionStarted, TaskScheduled } from "@jetflow/contracts";
import type { HistoryEvent } from "@jetflow/contracts";
import { Registry } from "@jetflow/service-runtime";
import { instrumentOrchestrator } from "./metrics";

const counters = {
  transitions: 0,
  commands: 0,
  ignored: 0,
  conflicts: 0,
  deadLetters: 0,
  behind: 0,
  results: 0,
  heartbeats: 0,
};
const scheduled = new Date("2026-01-01T00:00:00Z");
const at = (ms: number) => new Date(scheduled.getTime() + ms);

function snapshotWithTask(parent = false): ExecutionSnapshot {
  return ExecutionSnapshot.fromPartial({
    executionId: "e1",
    workflowName: "orders",
    parent: parent ? { executionId: "p", entryEventId: 3, index: 0 } : undefined,
    active: {
      name: "Charge",
      phase: { $case: "task", value: { taskToken: "e1.5", activity: "charge", scheduledTime: scheduled } },
    },
  });
}

function batch(events: Partial<HistoryEvent>[]): EventBatch {
  return EventBatch.fromPartial({ executionId: "e1", events });
}

async function valueOf(registry: Registry, name: string, labels: Record<string, string>): Promise<number> {
  const metric = await registry.getSingleMetric(name)?.get();
  const found = metric?.values.find((v) =>
    Object.entries(labels).every(([key, value]) => String(v.labels[key]) === value),
  );
  return found?.value ?? 0;
}

describe("instrumentOrchestrator", () => {
  it("counts a task's end by the activity of the attempt it ends, with its schedule-to-close time", async () => {
    const registry = new Registry();
    const record = instrumentOrchestrator(registry, () => counters);
    const before = snapshotWithTask();
    record(
      before,
      batch([
        {
          timestamp: at(1500),
          details: { $case: "taskStarted", value: { taskToken: "e1.5", workerId: "w" } },
        },
        {
          timestamp: at(1500),
          details: { $case: "taskSucceeded", value: { taskToken: "e1.5", outputJson: "{}" } },
        },
        {
          timestamp: at(1500),
          details: {
            $case: "stateEntered",
            value: { stateName: "Ship", stateType: "Task", inputJson: "{}" },
          },
        },
        {
          timestamp: at(1500),
          details: {
            $case: "taskScheduled",
            value: TaskScheduled.fromPartial({ taskToken: "e1.8", activity: "ship", attempt: 1 }),
          },
        },
      ]),
      ExecutionSnapshot.fromPartial({ executionId: "e1", workflowName: "orders" }),
    );
    expect(await valueOf(registry, "jetflow_tasks_started_total", { activity: "charge" })).toBe(1);
    expect(
      await valueOf(registry, "jetflow_tasks_ended_total", { activity: "charge", outcome: "succeeded" }),
    ).toBe(1);
    expect(await valueOf(registry, "jetflow_tasks_scheduled_total", { activity: "ship" })).toBe(1);
    expect(
      await valueOf(registry, "jetflow_states_entered_total", { workflow: "orders", state_type: "Task" }),
    ).toBe(1);
    expect(await valueOf(registry, "jetflow_state_transitions_total", { workflow: "orders" })).toBe(1);
    expect(
      await valueOf(registry, "jetflow_task_schedule_to_close_seconds", {
        activity: "charge",
        outcome: "succeeded",
        le: "2.5",
      }),
    ).toBe(1);
    expect(
      await valueOf(registry, "jetflow_task_schedule_to_close_seconds", {
        activity: "charge",
        outcome: "succeeded",
        le: "1",
      }),
    ).toBe(0);
  });

  it("counts an execution's end by workflow, status and kind, root or child", async () => {
    const registry = new Registry();
    const record = instrumentOrchestrator(registry, () => counters);
    const failed = batch([
      {
        timestamp: at(10),
        details: { $case: "taskTimedOut", value: { taskToken: "e1.5", error: "States.Timeout", cause: "" } },
      },
      {
        timestamp: at(10),
        details: { $case: "executionFailed", value: { error: "States.Timeout", cause: "" } },
      },
    ]);
    record(snapshotWithTask(), failed, ExecutionSnapshot.fromPartial({ workflowName: "orders" }));
    record(
      snapshotWithTask(true),
      failed,
      ExecutionSnapshot.fromPartial({ workflowName: "orders", parent: { executionId: "p" } }),
    );
    expect(
      await valueOf(registry, "jetflow_executions_ended_total", {
        workflow: "orders",
        status: "FAILED",
        kind: "root",
      }),
    ).toBe(1);
    expect(
      await valueOf(registry, "jetflow_executions_ended_total", {
        workflow: "orders",
        status: "FAILED",
        kind: "child",
      }),
    ).toBe(1);
    expect(
      await valueOf(registry, "jetflow_tasks_ended_total", { activity: "charge", outcome: "timed_out" }),
    ).toBe(2);
  });

  it("counts a child execution's start, and leaves a root execution's to the api-gateway", async () => {
    const registry = new Registry();
    const record = instrumentOrchestrator(registry, () => counters);
    const started = () =>
      batch([
        {
          eventId: 1,
          timestamp: at(0),
          details: {
            $case: "executionStarted",
            value: ExecutionStarted.fromPartial({ workflowName: "orders" }),
          },
        },
      ]);
    record(undefined, started(), snapshotWithTask(true));
    record(undefined, started(), snapshotWithTask(true));
    record(undefined, started(), snapshotWithTask(false));
    expect(
      await valueOf(registry, "jetflow_executions_started_total", { workflow: "orders", kind: "child" }),
    ).toBe(2);
    expect(
      await valueOf(registry, "jetflow_executions_started_total", { workflow: "orders", kind: "root" }),
    ).toBe(0);
  });

  it("exposes the orchestrator's own counters as they are at each scrape", async () => {
    const registry = new Registry();
    const live = { ...counters };
    instrumentOrchestrator(registry, () => live);
    live.conflicts = 4;
    expect(await valueOf(registry, "jetflow_orchestrator_commit_conflicts_total", {})).toBe(4);
  });
});
