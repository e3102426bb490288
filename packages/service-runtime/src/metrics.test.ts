import { createServiceMetrics, exposeStats } from "./metrics";

describe("createServiceMetrics", () => {
  it("labels every metric with the service and includes the default process metrics", async () => {
    const registry = createServiceMetrics("dispatcher");
    const text = await registry.metrics();
    expect(text).toMatch(/^process_cpu_user_seconds_total\{service="dispatcher"\} /m);
    expect(text).toMatch(/^nodejs_eventloop_lag_seconds\{service="dispatcher"\} /m);
    expect(text).toContain("# TYPE jetflow_consumer_redeliveries_total counter");
  });
});

describe("exposeStats", () => {
  it("reports a stats object's counters as they are at each scrape", async () => {
    const registry = createServiceMetrics("state-manager");
    const stats = { commits: 0 };
    exposeStats(registry, () => stats, [
      { name: "test_commits_total", help: "commits", read: (s) => s.commits },
    ]);
    expect(await registry.metrics()).toContain('test_commits_total{service="state-manager"} 0');
    stats.commits = 7;
    expect(await registry.metrics()).toContain('test_commits_total{service="state-manager"} 7');
  });
});
