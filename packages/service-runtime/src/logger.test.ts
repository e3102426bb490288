import { executionLogFields, lazyChild, snapshotLogFields } from "./logger";
import pino from "pino";

const TRACE_PARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

describe("executionLogFields", () => {
  it("names the execution, workflow, state and trace id", () => {
    expect(
      executionLogFields({
        executionId: "e-1",
        workflowName: "orders",
        stateName: "Charge",
        traceParent: TRACE_PARENT,
      }),
    ).toEqual({
      executionId: "e-1",
      workflow: "orders",
      state: "Charge",
      traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
    });
  });

  it("leaves out what is not known, and a traceparent that does not parse", () => {
    expect(executionLogFields({ executionId: "e-1", traceParent: "garbage" })).toEqual({
      executionId: "e-1",
    });
    expect(executionLogFields({})).toEqual({});
  });

  it("takes a snapshot's active state, empty when it has none", () => {
    expect(
      snapshotLogFields({
        executionId: "e-2",
        workflowName: "wf",
        active: undefined,
        traceParent: undefined,
      }),
    ).toEqual({ executionId: "e-2", workflow: "wf", state: "" });
  });
});

describe("lazyChild", () => {
  it("makes the child on first use only, once", () => {
    const lines: Record<string, unknown>[] = [];
    const log = pino({ level: "info" }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    let made = 0;
    const child = lazyChild(log, () => ({ executionId: `e-${++made}` }));
    expect(made).toBe(0);
    child().info("one");
    child().info("two");
    expect(made).toBe(1);
    expect(lines.map((l) => [l["executionId"], l["msg"]])).toEqual([
      ["e-1", "one"],
      ["e-1", "two"],
    ]);
  });
});
