import type { HistoryEvent } from "@jetflow/contracts";
import { stateTypesOf, toSfnHistoryEvent } from "./history-map";
import type { HistoryContext } from "./history-map";

const at = new Date("2026-01-02T03:04:05.678Z");
const context: HistoryContext = {
  scope: { region: "us-east-1", account: "000000000000" },
  stateTypes: new Map([
    ["Charge", "Task"],
    ["Fan", "Map"],
  ]),
  includeData: true,
  roleArn: "arn:aws:iam::000000000000:role/jetflow",
};

function event(eventId: number, details: HistoryEvent["details"], stateName = ""): HistoryEvent {
  return { eventId, executionId: "n-1", timestamp: at, stateName, details };
}

describe("toSfnHistoryEvent", () => {
  it("maps a task's events to activity events with ids, previous ids and details", () => {
    const scheduled = event(3, {
      $case: "taskScheduled",
      value: {
        taskToken: "n-1.3",
        activity: "billing.charge",
        attempt: 1,
        inputJson: '{"a":1}',
        timeoutSeconds: 60,
        heartbeatSeconds: 0,
        stateName: "Charge",
        workflowName: "w",
      },
    });
    expect(toSfnHistoryEvent(scheduled, context)).toEqual({
      id: 3,
      previousEventId: 2,
      timestamp: at.getTime() / 1000,
      type: "ActivityScheduled",
      activityScheduledEventDetails: {
        resource: "arn:aws:states:us-east-1:000000000000:activity:billing.charge",
        input: '{"a":1}',
        inputDetails: { truncated: false },
        timeoutInSeconds: 60,
      },
    });
    expect(
      toSfnHistoryEvent(
        event(4, { $case: "taskStarted", value: { taskToken: "n-1.3", workerId: "w-1" } }),
        context,
      ),
    ).toMatchObject({ type: "ActivityStarted", activityStartedEventDetails: { workerName: "w-1" } });
    expect(
      toSfnHistoryEvent(
        event(5, {
          $case: "taskTimedOut",
          value: { taskToken: "n-1.3", error: "States.Timeout", cause: "late" },
        }),
        context,
      ),
    ).toMatchObject({
      type: "ActivityTimedOut",
      activityTimedOutEventDetails: { error: "States.Timeout", cause: "late" },
    });
  });

  it("names state events by the state's type, exits by the machine's types", () => {
    expect(
      toSfnHistoryEvent(
        event(2, {
          $case: "stateEntered",
          value: { stateName: "Charge", stateType: "Task", inputJson: "{}" },
        }),
        context,
      ),
    ).toMatchObject({ type: "TaskStateEntered", stateEnteredEventDetails: { name: "Charge", input: "{}" } });
    expect(
      toSfnHistoryEvent(
        event(9, { $case: "stateExited", value: { stateName: "Fan", outputJson: "[]" } }),
        context,
      ),
    ).toMatchObject({ type: "MapStateExited", stateExitedEventDetails: { name: "Fan", output: "[]" } });
  });

  it("leaves out input and output when execution data is not included", () => {
    const started = event(1, {
      $case: "executionStarted",
      value: {
        workflowName: "w",
        workflowVersion: 1,
        inputJson: '{"secret":1}',
        executionName: "x",
        machinePath: "",
        parent: undefined,
        rootExecutionId: "n-1",
        timeoutSeconds: 0,
        timeoutTimerId: "",
        redriveCount: 0,
        scheduleId: "",
      },
    });
    expect(toSfnHistoryEvent(started, { ...context, includeData: false })).toEqual({
      id: 1,
      previousEventId: 0,
      timestamp: at.getTime() / 1000,
      type: "ExecutionStarted",
      executionStartedEventDetails: { roleArn: context.roleArn },
    });
  });

  it("maps the end of an execution and map iterations", () => {
    expect(
      toSfnHistoryEvent(event(7, { $case: "executionAborted", value: { error: "Op", cause: "c" } }), context),
    ).toMatchObject({ type: "ExecutionAborted", executionAbortedEventDetails: { error: "Op", cause: "c" } });
    expect(
      toSfnHistoryEvent(
        event(6, { $case: "mapIterationFailed", value: { index: 2, error: "E", cause: "" } }, "Fan"),
        context,
      ),
    ).toMatchObject({
      type: "MapIterationFailed",
      mapIterationFailedEventDetails: { name: "Fan", index: 2 },
    });
  });

  it("maps a redrive to ExecutionRedriven with its count only, the rest of it being jetflow's", () => {
    expect(
      toSfnHistoryEvent(
        event(12, {
          $case: "executionRedriven",
          value: {
            redriveCount: 2,
            identity: "ops@example.com",
            timeoutTimerId: "n-1.t12",
            stateName: "Charge",
            timeoutSeconds: 300,
          },
        }),
        context,
      ),
    ).toEqual({
      id: 12,
      previousEventId: 11,
      timestamp: at.getTime() / 1000,
      type: "ExecutionRedriven",
      executionRedrivenEventDetails: { redriveCount: 2 },
    });
  });

  it("keeps jetflow's names, without details, for the children a redrive resumes and reports", () => {
    const redriven = event(
      14,
      {
        $case: "childrenRedriven",
        value: {
          startedEventId: 3,
          total: 4,
          maxConcurrency: 2,
          toleratedFailures: 0,
          succeeded: Buffer.from([0b0101]),
          succeededCount: 2,
          launched: 4,
        },
      },
      "Fan",
    );
    expect(toSfnHistoryEvent(redriven, context)).toEqual({
      id: 14,
      previousEventId: 13,
      timestamp: at.getTime() / 1000,
      type: "ChildrenRedriven",
    });
    const reported = event(5, {
      $case: "childResultReported",
      value: { redriveCount: 1, outputJson: '{"charged":true}' },
    });
    // No details, even with execution data included: AWS has no type for it.
    expect(toSfnHistoryEvent(reported, context)).toEqual({
      id: 5,
      previousEventId: 4,
      timestamp: at.getTime() / 1000,
      type: "ChildResultReported",
    });
  });

  it("maps every event, those AWS has no type for under jetflow's name, so no id is skipped", () => {
    const types = new Map([...context.stateTypes, ["Both", "Parallel"]]);
    const ctx = { ...context, stateTypes: types };
    const cases: [HistoryEvent["details"], string, string][] = [
      [
        { $case: "taskCancelled", value: { taskToken: "n-1.3", activity: "a" } },
        "Charge",
        "TaskStateAborted",
      ],
      [{ $case: "childrenCancelled", value: { idPrefix: "n-1.4", indices: [0] } }, "Fan", "MapStateAborted"],
      [
        { $case: "childrenCancelled", value: { idPrefix: "n-1.4", indices: [0] } },
        "Both",
        "ParallelStateAborted",
      ],
      [{ $case: "waitStarted", value: { fireTime: at, timerId: "t" } }, "W", "WaitTimerStarted"],
      [{ $case: "waitFinished", value: {} }, "W", "WaitTimerFinished"],
      [
        {
          $case: "taskRetryScheduled",
          value: { error: "E", nextAttempt: 2, delayMs: 10, timerId: "t", fireTime: at, retrierIndex: 0 },
        },
        "Charge",
        "TaskRetryScheduled",
      ],
      [{ $case: "executionStopRequested", value: { error: "", cause: "" } }, "", "ExecutionStopRequested"],
      [
        {
          $case: "parallelBranchStarted",
          value: { index: 0, childExecutionId: "c", inputJson: "{}", redriveCount: 0 },
        },
        "Both",
        "ParallelBranchStarted",
      ],
      [
        { $case: "childLaunchPending", value: { nextIndex: 3, entryEventId: 2 } },
        "Fan",
        "ChildLaunchPending",
      ],
      [undefined, "", "Unknown"],
    ];
    cases.forEach(([details, stateName, type], i) => {
      expect(toSfnHistoryEvent(event(10 + i, details, stateName), ctx)).toEqual({
        id: 10 + i,
        previousEventId: 9 + i,
        timestamp: at.getTime() / 1000,
        type,
      });
    });
  });
});

describe("stateTypesOf", () => {
  it("finds the states of branches and iterators too", () => {
    const machine = {
      States: {
        P: { Type: "Parallel", Branches: [{ States: { B: { Type: "Pass" } } }] },
        M: { Type: "Map", ItemProcessor: { States: { I: { Type: "Task" } } } },
      },
    };
    expect([...stateTypesOf(machine)]).toEqual([
      ["P", "Parallel"],
      ["B", "Pass"],
      ["M", "Map"],
      ["I", "Task"],
    ]);
  });
});
