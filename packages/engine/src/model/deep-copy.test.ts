import { ExecutionSnapshot, ExecutionStatus } from "@jetflow/contracts";
import { deepCopy } from "./deep-copy";

function snapshot(): ExecutionSnapshot {
  return ExecutionSnapshot.fromPartial({
    executionId: "e-1",
    workflowName: "wf",
    inputJson: '{"items":[1,2,3]}',
    status: ExecutionStatus.EXECUTION_STATUS_RUNNING,
    startTime: new Date("2026-12-04T06:00:00.000Z"),
    lastEventId: 7,
    parent: { executionId: "p-1", stateName: "Fan", index: 2 },
    active: {
      name: "Fan",
      inputJson: "{}",
      retryCounts: [1, 0],
      phase: {
        $case: "children",
        value: {
          total: 16,
          launched: 8,
          succeeded: 1,
          failed: 0,
          maxConcurrency: 0,
          toleratedFailures: 0,
          completed: Buffer.from([0b0000_0001, 0]),
          startedEventId: 5,
        },
      },
    },
  });
}

describe("deepCopy", () => {
  it("copies a snapshot into an equal one that shares nothing mutable", () => {
    const original = snapshot();
    const copy = deepCopy(original);
    expect(copy).toEqual(original);

    copy.lastEventId = 8;
    copy.startTime?.setTime(0);
    copy.active?.retryCounts.push(3);
    const phase = copy.active?.phase;
    if (phase?.$case !== "children") throw new Error("not a children phase");
    phase.value.completed[1] = 0xff;
    phase.value.launched = 16;
    if (copy.parent) copy.parent.index = 9;

    expect(original).toEqual(snapshot());
  });

  it("keeps a Buffer a Buffer (ts-proto's bytes), so the encoder and bitmaps see the same type", () => {
    const phase = deepCopy(snapshot()).active?.phase;
    expect(phase?.$case === "children" && Buffer.isBuffer(phase.value.completed)).toBe(true);
    expect(ExecutionSnapshot.decode(ExecutionSnapshot.encode(deepCopy(snapshot())).finish())).toEqual(
      snapshot(),
    );
  });

  it("returns scalars and undefined as they are", () => {
    expect(deepCopy(undefined)).toBeUndefined();
    expect(deepCopy("text")).toBe("text");
    expect(deepCopy(3)).toBe(3);
  });
});
