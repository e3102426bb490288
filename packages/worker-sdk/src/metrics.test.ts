import { Registry } from "prom-client";
import { createTaskObserver, outcomeLabel } from "./metrics";

describe("outcomeLabel", () => {
  it("names success, a timeout and any other failure", () => {
    expect(outcomeLabel({ $case: "outputJson", value: "{}" })).toBe("succeeded");
    expect(outcomeLabel({ $case: "failure", value: { error: "States.Timeout", cause: "late" } })).toBe(
      "timed_out",
    );
    expect(outcomeLabel({ $case: "failure", value: { error: "Declined", cause: "" } })).toBe("failed");
  });
});

describe("createTaskObserver", () => {
  it("counts tasks per activity and outcome, keeps the running gauge and both latencies", async () => {
    const registry = new Registry();
    const observer = createTaskObserver(registry);
    observer.started("charge", new Date(Date.now() - 2_000));
    observer.started("charge", undefined);
    expect(await registry.getSingleMetricAsString("jetflow_worker_tasks_running")).toContain(
      'jetflow_worker_tasks_running{activity="charge"} 2',
    );
    observer.ended("charge", "succeeded", 0.2);
    observer.ended("charge", "failed", 0.02);
    const text = await registry.metrics();
    expect(text).toContain('jetflow_worker_tasks_started_total{activity="charge"} 2');
    expect(text).toContain('jetflow_worker_tasks_ended_total{activity="charge",outcome="succeeded"} 1');
    expect(text).toContain('jetflow_worker_tasks_ended_total{activity="charge",outcome="failed"} 1');
    expect(text).toContain('jetflow_worker_tasks_running{activity="charge"} 0');
    // Only the task with a schedule time is measured from it: about two seconds ago.
    expect(text).toContain('jetflow_worker_task_schedule_to_start_seconds_count{activity="charge"} 1');
    expect(text).toContain(
      'jetflow_worker_task_schedule_to_start_seconds_bucket{le="1",activity="charge"} 0',
    );
    expect(text).toContain(
      'jetflow_worker_task_schedule_to_start_seconds_bucket{le="2.5",activity="charge"} 1',
    );
    expect(text).toContain(
      'jetflow_worker_task_start_to_close_seconds_bucket{le="0.25",activity="charge",outcome="succeeded"} 1',
    );
  });
});
