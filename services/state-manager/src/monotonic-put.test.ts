import { ExecutionStatus } from "@jetflow/contracts";
import { NOTHING_STORED, mayDeferSnapshot, nextPutStep } from "./monotonic-put";

describe("nextPutStep", () => {
  it("reads the entry when nothing is known about it", () => {
    expect(nextPutStep({ kind: "unknown" }, 5)).toEqual({ op: "read" });
  });

  it("creates the entry when there is none", () => {
    expect(nextPutStep({ kind: "absent" }, 1)).toEqual({ op: "create" });
  });

  it("updates an older snapshot at its revision", () => {
    expect(nextPutStep({ kind: "present", revision: 12, lastEventSeq: 4 }, 5)).toEqual({
      op: "update",
      revision: 12,
    });
  });

  it("keeps a newer snapshot", () => {
    expect(nextPutStep({ kind: "present", revision: 12, lastEventSeq: 9 }, 5)).toEqual({
      op: "skip",
      storedSeq: 9,
    });
  });

  it("keeps a snapshot of the same sequence", () => {
    expect(nextPutStep({ kind: "present", revision: 12, lastEventSeq: 5 }, 5)).toEqual({
      op: "skip",
      storedSeq: 5,
    });
  });

  it("replaces an entry without a readable snapshot", () => {
    expect(nextPutStep({ kind: "present", revision: 3, lastEventSeq: undefined }, 1)).toEqual({
      op: "update",
      revision: 3,
    });
  });
});

describe("mayDeferSnapshot", () => {
  const RUNNING = ExecutionStatus.EXECUTION_STATUS_RUNNING;
  const stored = { lastEventId: 10, status: RUNNING, redriveCount: 0 };
  const at = (lastEventId: number, status = RUNNING, redriveCount = 0) => ({
    lastEventId,
    status,
    redriveCount,
  });

  it("defers a running execution's snapshot while the stored one lags fewer events than the limit", () => {
    expect(mayDeferSnapshot(at(17), stored, 8)).toBe(true);
    expect(mayDeferSnapshot(at(18), stored, 8)).toBe(false);
  });

  it("writes when nothing is known of the stored snapshot, or when deferral is off", () => {
    expect(mayDeferSnapshot(at(11), undefined, 8)).toBe(false);
    expect(mayDeferSnapshot(at(11), stored, 0)).toBe(false);
  });

  it("judges a child with nothing stored yet like one stored at event 0", () => {
    expect(mayDeferSnapshot(at(3), NOTHING_STORED, 8)).toBe(true);
    expect(mayDeferSnapshot(at(8), NOTHING_STORED, 8)).toBe(false);
    expect(mayDeferSnapshot(at(3, ExecutionStatus.EXECUTION_STATUS_SUCCEEDED), NOTHING_STORED, 8)).toBe(
      false,
    );
    expect(mayDeferSnapshot(at(3), NOTHING_STORED, 0)).toBe(false);
  });

  it("writes an ended execution, and any change of status or redrive count", () => {
    expect(mayDeferSnapshot(at(11, ExecutionStatus.EXECUTION_STATUS_SUCCEEDED), stored, 8)).toBe(false);
    expect(mayDeferSnapshot(at(11), { ...stored, status: ExecutionStatus.EXECUTION_STATUS_FAILED }, 8)).toBe(
      false,
    );
    expect(mayDeferSnapshot(at(11, RUNNING, 1), stored, 8)).toBe(false);
  });
});
