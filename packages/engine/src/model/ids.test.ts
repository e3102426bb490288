import {
  MalformedIdError,
  childExecutionId,
  childIdPrefix,
  isExecutionId,
  namedExecutionId,
  newExecutionId,
  parseTaskToken,
  rootExecutionIdOf,
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

describe("rootExecutionIdOf", () => {
  it("returns a top-level execution's own id, random or named", () => {
    const random = newExecutionId();
    const named = namedExecutionId("orders", "order-42");
    expect(rootExecutionIdOf(random)).toBe(random);
    expect(rootExecutionIdOf(named)).toBe(named);
  });

  it("returns the top-level id of children at any depth", () => {
    const root = newExecutionId();
    const child = childExecutionId(root, 7, 3);
    const grandchild = childExecutionId(child, 4, 12);
    expect(rootExecutionIdOf(child)).toBe(root);
    expect(rootExecutionIdOf(grandchild)).toBe(root);
  });

  it("keeps underscores that are not a child suffix", () => {
    expect(rootExecutionIdOf("exec_0alijwwy7w")).toBe("exec_0alijwwy7w");
    expect(rootExecutionIdOf(childExecutionId("exec_a1", 3, 0))).toBe("exec_a1");
  });
});
