import { assertValidDefinition } from "@jetflow/asl";
import { ExecutionStatus } from "@jetflow/contracts";
import type { Command, ExecutionSnapshot } from "@jetflow/contracts";
import { evolve } from "../model";
import { startBatch } from "../start/start-batch";
import { applyCommand, decideTransition, isDecisionNeed } from "./decide";
import type { DecideEnv } from "./env";
import { MachinePathError } from "./machine";
import { Transition } from "./transition";

const ID = "exec-need";
const definition = assertValidDefinition(
  JSON.stringify({
    StartAt: "P",
    States: {
      P: {
        Type: "Parallel",
        End: true,
        Branches: [{ StartAt: "B", States: { B: { Type: "Pass", End: true } } }],
      },
    },
  }),
);
const now = new Date(Date.UTC(2026, 0, 1));
const env: DecideEnv = { now, definition, random: () => 0.5, uuid: () => "u" };

/** The parent after its Begin: waiting for its one branch, started by event `startedEventId`. */
function waitingParent(): { snapshot: ExecutionSnapshot; startedEventId: number } {
  const { snapshot: started } = startBatch({
    executionId: ID,
    workflowName: "wf",
    workflowVersion: 1,
    inputJson: "{}",
    executionName: "",
    timeoutSeconds: 0,
    startTime: now,
  });
  const begin: Command = { executionId: ID, kind: { $case: "begin", value: { child: undefined } } };
  const decision = decideTransition(ID, started, [begin], env);
  if (decision.kind !== "decided") throw new Error(`begin was not decided: ${decision.kind}`);
  const batch = decision.transition.toBatch(undefined);
  if (!batch) throw new Error("begin decided nothing");
  const snapshot = evolve(started, batch, 2);
  const phase = snapshot.active?.phase;
  if (phase?.$case !== "children") throw new Error("the parent does not wait for children");
  return { snapshot, startedEventId: phase.value.startedEventId };
}

function branchDone(startedEventId: number): Command {
  return {
    executionId: ID,
    kind: {
      $case: "childCompleted",
      value: {
        parent: { executionId: ID, stateName: "P", index: 0, entryEventId: startedEventId, redriveCount: 0 },
        childExecutionId: `${ID}_${startedEventId}_0`,
        status: ExecutionStatus.EXECUTION_STATUS_SUCCEEDED,
        outputJson: '"branch output"',
        error: "",
        cause: "",
      },
    },
  };
}

describe("decideTransition", () => {
  it("returns a need for the children's outputs when the last child completes without them", () => {
    const { snapshot, startedEventId } = waitingParent();
    const before = structuredClone(snapshot);
    const decision = decideTransition(ID, snapshot, [branchDone(startedEventId)], env);
    expect(decision).toEqual({ kind: "needs", need: { kind: "child-outputs", startedEventId } });
    expect(snapshot).toEqual(before);
  });

  it("decides the round's end once the outputs are provided, with this transition's completions", () => {
    const { snapshot, startedEventId } = waitingParent();
    const asked: number[] = [];
    const withOutputs: DecideEnv = {
      ...env,
      childOutputs: (id) => {
        asked.push(id);
        return new Map();
      },
    };
    const decision = decideTransition(ID, snapshot, [branchDone(startedEventId)], withOutputs);
    if (decision.kind !== "decided") throw new Error(`not decided: ${decision.kind}`);
    expect(asked).toEqual([startedEventId]);
    expect(decision.ignored).toEqual([undefined]);
    const kinds = decision.transition.emitted.map((e) => e.details?.$case);
    expect(kinds).toEqual([
      "parallelBranchSucceeded",
      "parallelSucceeded",
      "stateExited",
      "executionSucceeded",
    ]);
    const last = decision.transition.emitted.at(-1)?.details;
    expect(last?.$case === "executionSucceeded" && last.value.outputJson).toBe('["branch output"]');
  });

  it("says why each command changed nothing", () => {
    const { snapshot, startedEventId } = waitingParent();
    const malformed: Command = { executionId: ID, kind: undefined };
    const staleRound = branchDone(startedEventId + 100);
    const decision = decideTransition(ID, snapshot, [malformed, staleRound], env);
    expect(decision.kind === "decided" && decision.ignored).toEqual(["malformed", "stale"]);
  });

  it("returns the index and the error of a command that cannot be applied, instead of throwing", () => {
    const { snapshot, startedEventId } = waitingParent();
    const broken = { ...snapshot, machinePath: "not a path" };
    const malformed: Command = { executionId: ID, kind: undefined };
    const decision = decideTransition(ID, broken, [malformed, branchDone(startedEventId)], env);
    expect(decision.kind).toBe("failed");
    if (decision.kind !== "failed") return;
    expect(decision.commandIndex).toBe(1);
    expect(decision.error).toBeInstanceOf(MachinePathError);
  });
});

describe("applyCommand", () => {
  it("returns the need as a value, which isDecisionNeed tells from a reason", () => {
    const { snapshot, startedEventId } = waitingParent();
    const applied = applyCommand(new Transition(ID, snapshot, now), branchDone(startedEventId), env);
    expect(isDecisionNeed(applied)).toBe(true);
    expect(isDecisionNeed("stale")).toBe(false);
    expect(isDecisionNeed(undefined)).toBe(false);
  });
});
