import { isExecutionId, namedExecutionId } from "@jetflow/engine";
import { requestExecutionId } from "./executions";

describe("requestExecutionId", () => {
  it("gives the same id for the same workflow and key, and another for another workflow or key", () => {
    const id = requestExecutionId("orders", "3f1c2a9e-0b7d-4e1a-9c55-1d2e3f4a5b6c");
    expect(requestExecutionId("orders", "3f1c2a9e-0b7d-4e1a-9c55-1d2e3f4a5b6c")).toBe(id);
    expect(requestExecutionId("refunds", "3f1c2a9e-0b7d-4e1a-9c55-1d2e3f4a5b6c")).not.toBe(id);
    expect(requestExecutionId("orders", "another-key")).not.toBe(id);
  });

  it("makes valid execution ids apart from named ones, whatever the key holds", () => {
    const id = requestExecutionId("orders", "a key with spaces, dots. and ünïcode");
    expect(id).toMatch(/^r-[0-9a-f]{40}$/);
    expect(isExecutionId(id)).toBe(true);
    expect(requestExecutionId("orders", "k")).not.toBe(namedExecutionId("orders", "k"));
  });
});
