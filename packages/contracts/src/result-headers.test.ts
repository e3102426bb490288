import { headers } from "@nats-io/transport-node";
import { traceParentHeader } from "./consume/trace-context";
import {
  MAX_RESULT_NAME_HEADER_BYTES,
  RESULT_STATE_HEADER,
  RESULT_WORKFLOW_HEADER,
  resultHeaders,
  resultNamesFromHeaders,
} from "./result-headers";

const PARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

describe("result headers", () => {
  it("name the task's workflow and state, and its trace when traced", () => {
    const h = resultHeaders({ workflowName: "orders", stateName: "Charge card ✓", traceParent: PARENT });
    expect(h.get(RESULT_WORKFLOW_HEADER)).toBe("orders");
    expect(h.get(RESULT_STATE_HEADER)).toBe("Charge card ✓");
    expect(traceParentHeader(h)).toBe(PARENT);
    expect(resultNamesFromHeaders(h)).toEqual({ workflowName: "orders", stateName: "Charge card ✓" });
    expect(resultHeaders({ workflowName: "orders", stateName: "A" }).has("traceparent")).toBe(false);
  });

  it("leave out a name that cannot travel as a header value, instead of failing the publish", () => {
    const long = "x".repeat(MAX_RESULT_NAME_HEADER_BYTES + 1);
    for (const stateName of ["", "two\nlines", "cr\r", " padded ", long, "é".repeat(600)]) {
      const h = resultHeaders({ workflowName: "wf", stateName });
      expect(h.has(RESULT_STATE_HEADER)).toBe(false);
      expect(resultNamesFromHeaders(h)).toEqual({ workflowName: "wf" });
    }
    expect(
      resultHeaders({ workflowName: "wf", stateName: "x".repeat(MAX_RESULT_NAME_HEADER_BYTES) }).has(
        RESULT_STATE_HEADER,
      ),
    ).toBe(true);
  });

  it("read nothing from a result without them (a worker written from the .proto files)", () => {
    expect(resultNamesFromHeaders(undefined)).toEqual({});
    const other = headers();
    other.set("Nats-Msg-Id", "exec.1");
    expect(resultNamesFromHeaders(other)).toEqual({});
    const oversized = headers();
    oversized.set(RESULT_WORKFLOW_HEADER, "w".repeat(MAX_RESULT_NAME_HEADER_BYTES + 1));
    expect(resultNamesFromHeaders(oversized)).toEqual({});
  });
});
