import type { HistoryEvent } from "@jetflow/contracts";
import { Screen } from "./screen";
import { createStyle } from "./style";
import { WatchView, formatElapsed } from "./watch-view";
import type { Scope } from "./watch-view";

type Details = NonNullable<HistoryEvent["details"]>;

const T0 = Date.UTC(2025, 0, 1, 12, 0, 0);

function setup(options: { live?: boolean; followBranches?: number } = {}) {
  let text = "";
  const screen = new Screen({ write: (chunk) => (text += chunk) }, options.live ?? false, 0);
  const view = new WatchView({ screen, style: createStyle(false), followBranches: options.followBranches });
  let id = 0;
  const emit = (ms: number, stateName: string, details: Details, scope?: Scope) =>
    view.onEvent(
      { eventId: ++id, executionId: "exec-1", timestamp: new Date(T0 + ms), stateName, details },
      scope,
    );
  return { view, emit, output: () => text };
}

it("shows each state as it is entered and left, with what a task is waiting for", () => {
  const { view, emit, output } = setup();
  emit(0, "", {
    $case: "executionStarted",
    value: {
      workflowName: "orders",
      workflowVersion: 2,
      inputJson: '{"orderId":"o-1"}',
      executionName: "",
      machinePath: "",
      parent: undefined,
      rootExecutionId: "exec-1",
      timeoutSeconds: 0,
      timeoutTimerId: "",
      redriveCount: 0,
      scheduleId: "",
    },
  });
  emit(10, "Check", {
    $case: "stateEntered",
    value: { stateName: "Check", stateType: "Choice", inputJson: "{}" },
  });
  emit(12, "Check", { $case: "stateExited", value: { stateName: "Check", outputJson: "{}" } });
  emit(20, "Charge", {
    $case: "stateEntered",
    value: { stateName: "Charge", stateType: "Task", inputJson: "{}" },
  });
  emit(20, "Charge", {
    $case: "taskScheduled",
    value: {
      taskToken: "exec-1.5",
      activity: "charge-card",
      attempt: 1,
      inputJson: "{}",
      timeoutSeconds: 30,
      heartbeatSeconds: 0,
      stateName: "Charge",
      workflowName: "orders",
    },
  });
  emit(400, "Charge", {
    $case: "taskFailed",
    value: { taskToken: "exec-1.5", error: "GatewayDown", cause: "503" },
  });
  emit(400, "Charge", {
    $case: "taskRetryScheduled",
    value: {
      error: "GatewayDown",
      nextAttempt: 2,
      delayMs: 1000,
      timerId: "t",
      fireTime: undefined,
      retrierIndex: 0,
    },
  });
  emit(1800, "Charge", { $case: "stateExited", value: { stateName: "Charge", outputJson: "{}" } });
  emit(1810, "", { $case: "executionSucceeded", value: { outputJson: '{"ok":true}' } });
  view.close();
  expect(output()).toBe(
    [
      '   0.00s  ▶ orders v2 input {"orderId":"o-1"}',
      "   0.01s  ✓ Check (Choice)  2ms",
      "   0.02s  → Charge (Task)  activity charge-card · token exec-1.5",
      "   0.40s  ✗ Charge  GatewayDown: 503",
      "   0.40s  ↻ Charge  retry in 1.0s (attempt 2)",
      "   1.80s  ✓ Charge  1.7s",
      "   1.81s  ✔ SUCCEEDED in 1.8s",
      '  output {"ok":true}',
      "",
    ].join("\n"),
  );
  expect(view.ending).toEqual({ status: "SUCCEEDED", error: "", cause: "", outputJson: '{"ok":true}' });
});

it("reports a Map's progress by quarters off a terminal, and each failed item", () => {
  const { emit, output } = setup();
  emit(0, "Each", { $case: "stateEntered", value: { stateName: "Each", stateType: "Map", inputJson: "[]" } });
  emit(0, "Each", { $case: "mapStarted", value: { itemCount: 8, maxConcurrency: 2, toleratedFailures: 1 } });
  for (let i = 0; i < 8; i++) {
    emit(i * 10, "Each", {
      $case: "mapIterationStarted",
      value: { index: i, childExecutionId: `exec-1_2_${i}`, inputJson: "{}", redriveCount: 0 },
    });
    emit(i * 10 + 5, "Each", {
      $case: i === 3 ? "mapIterationFailed" : "mapIterationSucceeded",
      value: { index: i, outputJson: "{}", error: "Boom", cause: "item 3" },
    } as Details);
  }
  emit(90, "Each", { $case: "mapSucceeded", value: {} });
  emit(90, "Each", { $case: "stateExited", value: { stateName: "Each", outputJson: "[]" } });
  expect(output()).toBe(
    [
      "   0.00s  → Each (Map)  8 items, at most 2 at a time",
      "   0.01s    ⧉ Each  2/8 items done, 0 failed",
      "   0.04s  ✗ Each item 3  Boom: item 3",
      "   0.04s    ⧉ Each  4/8 items done, 1 failed",
      "   0.06s    ⧉ Each  6/8 items done, 1 failed",
      "   0.09s    ⧉ Each  8/8 items done, 1 failed",
      "   0.09s  ✓ Each  90ms",
      "",
    ].join("\n"),
  );
});

it("draws the progress line in place on a terminal and clears it at the end", async () => {
  const { view, emit, output } = setup({ live: true });
  emit(0, "Each", { $case: "stateEntered", value: { stateName: "Each", stateType: "Map", inputJson: "[]" } });
  emit(0, "Each", { $case: "mapStarted", value: { itemCount: 2, maxConcurrency: 0, toleratedFailures: 0 } });
  emit(1, "Each", {
    $case: "mapIterationStarted",
    value: { index: 0, childExecutionId: "c0", inputJson: "{}", redriveCount: 0 },
  });
  await new Promise((resolve) => setTimeout(resolve, 5));
  expect(output()).toContain("0/2 items done · 1 running · 0 failed\n");
  emit(2, "Each", { $case: "mapIterationSucceeded", value: { index: 0, outputJson: "{}" } });
  emit(3, "", { $case: "executionFailed", value: { error: "States.Runtime", cause: "bad" } });
  view.close();
  const text = output();
  // The status line is erased (cursor up, clear) before the final line.
  expect(text.endsWith("\u001b[1A\r\u001b[J   0.00s  ✘ FAILED in 3ms  States.Runtime: bad\n")).toBe(true);
});

it("indents the events of a followed Parallel branch under its label", () => {
  const { emit, output } = setup({ followBranches: 4 });
  emit(0, "Both", {
    $case: "stateEntered",
    value: { stateName: "Both", stateType: "Parallel", inputJson: "{}" },
  });
  emit(0, "Both", { $case: "parallelStarted", value: { branchCount: 2 } });
  const branch = { depth: 1, label: "[0]" };
  emit(
    5,
    "A",
    { $case: "stateEntered", value: { stateName: "A", stateType: "Pass", inputJson: "{}" } },
    branch,
  );
  emit(6, "A", { $case: "stateExited", value: { stateName: "A", outputJson: "{}" } }, branch);
  emit(9, "Both", { $case: "parallelBranchFailed", value: { index: 1, error: "Oops", cause: "" } });
  expect(output()).toBe(
    [
      "   0.00s  → Both (Parallel)  2 branches",
      "   0.01s    [0] ✓ A (Pass)  1ms",
      "   0.01s  ✗ Both branch 1  Oops",
      "",
    ].join("\n"),
  );
});

it("right-aligns the elapsed time", () => {
  expect(formatElapsed(1250)).toBe("   1.25s");
  expect(formatElapsed(725_000)).toBe(" 12m 05s");
});

it("cuts status lines to the terminal's width so they redraw in place", async () => {
  let text = "";
  const screen = new Screen({ write: (chunk) => (text += chunk), columns: 21 }, true, 0);
  screen.setStatus("a", "0123456789".repeat(3));
  await new Promise((resolve) => setTimeout(resolve, 5));
  expect(text).toBe("01234567890123456789\n");
  screen.close();
});

it("shows a failure a Catch handled, and where it went, instead of a ✓ for the failed state", () => {
  const { view, emit, output } = setup({ followBranches: 8 });
  const branch: Scope = { depth: 1, label: "[1]" };
  const entered = (ms: number, name: string, type: string, scope?: Scope) =>
    emit(
      ms,
      name,
      { $case: "stateEntered", value: { stateName: name, stateType: type, inputJson: "{}" } },
      scope,
    );
  const exited = (ms: number, name: string, scope?: Scope) =>
    emit(ms, name, { $case: "stateExited", value: { stateName: name, outputJson: "{}" } }, scope);
  entered(0, "Charge", "Task", branch);
  emit(
    0,
    "Charge",
    { $case: "taskFailed", value: { taskToken: "t", error: "Declined", cause: "no funds" } },
    branch,
  );
  exited(10, "Charge", branch);
  entered(10, "Refund", "Pass", branch);
  exited(12, "Refund", branch);
  entered(20, "Ship", "Task");
  emit(30, "Ship", { $case: "taskTimedOut", value: { taskToken: "t2", error: "States.Timeout", cause: "" } });
  exited(30, "Ship");
  entered(30, "Apologise", "Pass");
  exited(31, "Apologise");
  entered(40, "Last", "Task");
  emit(50, "Last", { $case: "taskFailed", value: { taskToken: "t3", error: "Late", cause: "" } });
  exited(50, "Last");
  view.close();
  expect(output()).toBe(
    [
      "   0.00s    [1] → Charge (Task)",
      "   0.00s    [1] ✗ Charge  Declined: no funds",
      "   0.01s    [1] ↪ Charge  caught Declined → Refund",
      "   0.01s    [1] ✓ Refund (Pass)  2ms",
      "   0.02s  → Ship (Task)",
      "   0.03s  ⏱ Ship  States.Timeout",
      "   0.03s  ↪ Ship  caught States.Timeout → Apologise",
      "   0.03s  ✓ Apologise (Pass)  1ms",
      "   0.04s  → Last (Task)",
      "   0.05s  ✗ Last  Late",
      "   0.05s  ↪ Last  caught Late",
      "",
    ].join("\n"),
  );
});
