import { createStyle } from "../style";
import { renderStats } from "./stats";

const plain = createStyle(false);

describe("renderStats", () => {
  it("shows activities and workflows as tables and warns about a queue no worker asks for", () => {
    const text = renderStats(plain, {
      activities: [
        {
          activity: "charge",
          pending: 0,
          running: 2,
          waitingPulls: 3,
          redelivered: 0,
          lastActiveTime: undefined,
        },
        {
          activity: "ship",
          pending: 7,
          running: 0,
          waitingPulls: 0,
          redelivered: 1,
          lastActiveTime: undefined,
        },
      ],
      workflows: [
        { workflowName: "orders", running: 4, succeeded: 3, failed: 1, failureRate: 0.25 },
        { workflowName: "idle", running: 1, succeeded: 0, failed: 0, failureRate: 0 },
      ],
      windowSeconds: 300,
      readTime: undefined,
    });
    expect(text).toBe(
      [
        "ACTIVITY  PENDING  RUNNING  IDLE PULLS  REDELIVERED  LAST ACTIVE",
        "charge    0        2        3           0            -",
        "ship      7        0        0           1            -",
        '! no worker is asking for tasks of "ship" (7 waiting)',
        "",
        "WORKFLOW  RUNNING  SUCCEEDED (5m 00s)  FAILED (5m 00s)  FAILURE RATE",
        "orders    4        3                   1                25.0%",
        "idle      1        0                   0                -",
        "",
      ].join("\n"),
    );
  });

  it("says so when there is nothing to show", () => {
    expect(
      renderStats(plain, { activities: [], workflows: [], windowSeconds: 60, readTime: undefined }),
    ).toBe("no activity has a task queue yet\n\nno execution running or ended in the last 1m 00s\n");
  });
});
