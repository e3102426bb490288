import { EventBatch, encode } from "@jetflow/contracts";
import type { Command } from "@jetflow/contracts";
import { evolve } from "../model";
import { snapshotFromCarriedStart } from "./carried-start";
import { startBatch } from "./start-batch";

const EXEC = "exec-carried";

function started(executionId = EXEC): EventBatch {
  return startBatch({
    executionId,
    workflowName: "wf",
    workflowVersion: 3,
    inputJson: '{"a":1}',
    executionName: "",
    timeoutSeconds: 0,
    startTime: new Date("2030-01-01T00:00:00.000Z"),
  }).batch;
}

function begin(startBatch?: Uint8Array, startBatchSeq?: number): Command {
  return {
    executionId: EXEC,
    kind: {
      $case: "begin",
      value: {
        child: undefined,
        ...(startBatch ? { startBatch: Buffer.from(startBatch) } : {}),
        ...(startBatchSeq !== undefined ? { startBatchSeq } : {}),
      },
    },
  };
}

describe("snapshotFromCarriedStart", () => {
  it("folds the carried start batch at its stream sequence: the snapshot a load would return", () => {
    const batch = started();
    const snapshot = snapshotFromCarriedStart(EXEC, begin(encode(EventBatch, batch), 17));
    expect(snapshot).toEqual(evolve(undefined, batch, 17));
    expect(snapshot?.lastEventSeq).toBe(17);
    expect(snapshot?.lastEventId).toBe(1);
  });

  it("gives nothing, so that the caller loads, for a Begin without a usable start batch", () => {
    const bytes = encode(EventBatch, started());
    expect(snapshotFromCarriedStart(EXEC, begin())).toBeUndefined();
    expect(snapshotFromCarriedStart(EXEC, begin(bytes))).toBeUndefined();
    expect(snapshotFromCarriedStart(EXEC, begin(bytes, 0))).toBeUndefined();
    // Another execution's batch, bytes that do not decode, a batch that does not start the history.
    expect(
      snapshotFromCarriedStart(EXEC, begin(encode(EventBatch, started("exec-other")), 5)),
    ).toBeUndefined();
    expect(snapshotFromCarriedStart(EXEC, begin(Uint8Array.of(0xff, 0xff, 0xff), 5))).toBeUndefined();
    const later = started();
    later.events = later.events.map((e) => ({ ...e, eventId: 7 }));
    expect(snapshotFromCarriedStart(EXEC, begin(encode(EventBatch, later), 5))).toBeUndefined();
  });

  it("ignores a child's Begin, whose first batch the orchestrator writes itself", () => {
    const command = begin(encode(EventBatch, started()), 5);
    if (command.kind?.$case === "begin") {
      command.kind.value.child = {
        parent: undefined,
        workflowName: "wf",
        workflowVersion: 3,
        machinePath: "",
        inputJson: "{}",
        rootExecutionId: EXEC,
        redriveCount: 0,
      };
    }
    expect(snapshotFromCarriedStart(EXEC, command)).toBeUndefined();
  });
});
