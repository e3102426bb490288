import { ExecutionLog, executionLogFields, lazyChild, snapshotLogFields } from "./logger";
import { ExecutionSnapshot } from "@jetflow/contracts";
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

describe("ExecutionLog", () => {
  const snapshot = ExecutionSnapshot.fromPartial({
    executionId: "e-1",
    workflowName: "orders",
    active: { name: "Charge" },
    traceParent: TRACE_PARENT,
  });

  function recording(level: string): { log: pino.Logger; lines: Record<string, unknown>[] } {
    const lines: Record<string, unknown>[] = [];
    const log = pino({ level }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    return { log, lines };
  }

  it("makes no child logger for a transition that writes nothing, nor for debug lines when they are off", () => {
    const { log } = recording("info");
    const child = jest.spyOn(log, "child");
    const elog = new ExecutionLog(log, "e-1");
    elog.name(snapshot);
    elog.debug({ n: 1 }, "not written");
    expect(child).not.toHaveBeenCalled();
  });

  it("names the execution, then its workflow, state and trace from the first snapshot only", () => {
    const { log, lines } = recording("debug");
    const elog = new ExecutionLog(log, "e-1");
    elog.log.info("before any snapshot");
    elog.name(snapshot);
    elog.name(ExecutionSnapshot.fromPartial({ workflowName: "other", active: { name: "Ship" } }));
    elog.debug({ n: 2 }, "after");
    const fresh = new ExecutionLog(log, "e-2");
    fresh.name(snapshot);
    fresh.log.warn("named before the first line");
    expect(lines.map((l) => [l["executionId"], l["workflow"], l["state"], l["traceId"], l["msg"]])).toEqual([
      ["e-1", undefined, undefined, undefined, "before any snapshot"],
      ["e-1", "orders", "Charge", "4bf92f3577b34da6a3ce929d0e0e4736", "after"],
      ["e-2", "orders", "Charge", "4bf92f3577b34da6a3ce929d0e0e4736", "named before the first line"],
    ]);
  });
});
