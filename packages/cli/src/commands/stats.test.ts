import { createStyle } from "../style";
import { renderStats } from "./stats";

const plain = createStyle(false);

describe("renderStats", () => {
  it("shows activities and workflows as tables and warns about a queue no worker asks for", () => {
    const text = renderStats(plain, {
      activities: [
        {
          activity: "charge",
          workersConnected: 2,
          pending: 0,
          running: 2,
          waitingPulls: 3,
          redelivered: 0,
          lastActiveTime: undefined,
          succeeded: 30,
          failed: 10,
          failureRate: 0.25,
        },
        {
          activity: "ship",
          workersConnected: 0,
          pending: 7,
          running: 0,
          waitingPulls: 0,
          redelivered: 1,
          lastActiveTime: undefined,
          succeeded: 0,
          failed: 0,
          failureRate: 0,
        },
      ],
      workflows: [
        { workflowName: "orders", running: 4, succeeded: 3, failed: 1, failureRate: 0.25 },
        { workflowName: "idle", running: 1, succeeded: 0, failed: 0, failureRate: 0 },
      ],
      windowSeconds: 300,
      readTime: new Date("2026-06-01T12:05:00Z"),
      taskCountsStartTime: new Date("2026-06-01T12:00:00Z"),
    });
    expect(text).toBe(
      [
        "ACTIVITY  WORKERS  PENDING  RUNNING  IDLE PULLS  REDELIVERED  LAST ACTIVE  SUCCEEDED (5m 00s)  FAILED (5m 00s)  FAILURE RATE",
        "charge    2        0        2        3           0            -            30                  10               25.0%",
        "ship      0        7        0        0           1            -            0                   0                -",
        '! no worker is asking for tasks of "ship" (7 waiting)',
        "",
        "WORKFLOW  RUNNING  SUCCEEDED (5m 00s)  FAILED (5m 00s)  FAILURE RATE",
        "orders    4        3                   1                25.0%",
        "idle      1        0                   0                -",
        "",
      ].join("\n"),
    );
  });

  it("says since when the activities' counts count when the window held too much to read", () => {
    const text = renderStats(plain, {
      activities: [
        {
          activity: "charge",
          workersConnected: 1,
          pending: 0,
          running: 0,
          waitingPulls: 1,
          redelivered: 0,
          lastActiveTime: undefined,
          succeeded: 5,
          failed: 0,
          failureRate: 0,
        },
      ],
      workflows: [],
      windowSeconds: 3600,
      readTime: new Date("2026-06-01T13:00:00Z"),
      taskCountsStartTime: new Date("2026-06-01T12:58:00Z"),
    });
    expect(text.split("\n")[0]).toMatch(/ SUCCEEDED \(since .+\) +FAILED \(since .+\) +FAILURE RATE$/);
    expect(text.split("\n")[1]).toMatch(/^charge +1 +0 +0 +1 +0 +- +5 +0 +0\.0%$/);
  });

  it("says so when there is nothing to show", () => {
    expect(
      renderStats(plain, {
        activities: [],
        workflows: [],
        windowSeconds: 60,
        readTime: undefined,
        taskCountsStartTime: undefined,
      }),
    ).toBe("no activity has a task queue yet\n\nno execution running or ended in the last 1m 00s\n");
  });
});
