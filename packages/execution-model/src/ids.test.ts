import { childExecutionId, namedExecutionId, newExecutionId, rootExecutionIdOf } from "./ids";

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
