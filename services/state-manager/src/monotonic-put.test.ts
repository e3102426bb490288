import { nextPutStep } from "./monotonic-put";

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
