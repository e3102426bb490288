import {
  MalformedIdError,
  childExecutionId,
  childIdPrefix,
  isExecutionId,
  namedExecutionId,
  parseTaskToken,
  taskToken,
} from "./ids";

describe("ids", () => {
  it("reads a task token back into its execution and scheduling event", () => {
    expect(parseTaskToken(taskToken("exec-1", 42))).toEqual({ executionId: "exec-1", scheduledEventId: 42 });
  });

  it("refuses a token the engine did not issue", () => {
    for (const token of ["", "exec-1", "exec-1.0", "exec-1.x", ".5"]) {
      expect(() => parseTaskToken(token)).toThrow(MalformedIdError);
    }
  });

  it("gives a named start the same id every time, and a different one per workflow", () => {
    expect(namedExecutionId("wf", "order-1")).toBe(namedExecutionId("wf", "order-1"));
    expect(namedExecutionId("wf", "order-1")).not.toBe(namedExecutionId("wf2", "order-1"));
    expect(isExecutionId(namedExecutionId("wf", "order-1"))).toBe(true);
  });

  it("names children under their round's prefix", () => {
    const child = childExecutionId("exec-1", 7, 3);
    expect(child.startsWith(childIdPrefix("exec-1", 7))).toBe(true);
    expect(isExecutionId(child)).toBe(true);
  });
});
