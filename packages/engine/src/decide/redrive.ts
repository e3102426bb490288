/**
 * Redrive (RedriveExecution, as in Step Functions): a FAILED, TIMED_OUT or ABORTED execution runs
 * again from the state that was active when it ended, with its history kept. `ExecutionRedriven`
 * makes it RUNNING again; the state is entered again (its Retry counts start over). A Parallel or
 * Map state resumes its last round: succeeded children keep their outputs, the others run again.
 * A child execution is redriven by its parent (a BeginExecution carrying the parent's higher
 * redrive count), never directly.
 */
import { ExecutionStatus } from "@jetflow/contracts";
import type { ChildrenPhase, ExecutionSnapshot } from "@jetflow/contracts";
import { timerIds } from "../model";
import { isChildExecution } from "./context";
import { redriveChildren } from "./children";
import { enter } from "./entering";
import type { DecideEnv, DecisionNeed, Ignored } from "./env";
import { Run, continueWith, parseJson } from "./run";
import type { Transition } from "./transition";

/** How long after it ended an execution can be redriven (as in Step Functions). */
export const REDRIVE_WINDOW_MS = 14 * 24 * 60 * 60 * 1000;

/** Why `snapshot` cannot be redriven at `now`, or undefined when it can. */
export function notRedrivableReason(snapshot: ExecutionSnapshot, now: Date): string | undefined {
  switch (snapshot.status) {
    case ExecutionStatus.EXECUTION_STATUS_FAILED:
    case ExecutionStatus.EXECUTION_STATUS_TIMED_OUT:
    case ExecutionStatus.EXECUTION_STATUS_ABORTED:
      break;
    case ExecutionStatus.EXECUTION_STATUS_RUNNING:
      return "it is running";
    case ExecutionStatus.EXECUTION_STATUS_SUCCEEDED:
      return "it succeeded";
    default:
      return "its status is unknown";
  }
  if (isChildExecution(snapshot)) return "it is a branch or iteration: redrive its top-level execution";
  const stop = snapshot.stopTime?.getTime();
  if (stop !== undefined && now.getTime() - stop > REDRIVE_WINDOW_MS) {
    return `it ended more than 14 days ago (${snapshot.stopTime?.toISOString()})`;
  }
  if (!snapshot.redriveState) return "it ended outside any state (no state to resume)";
  return undefined;
}

/**
 * Redrives the execution in `t` to redrive count `redriveCount`. A Parallel/Map state to resume
 * needs its round's succeeded outputs first (a need, as when a round completes).
 */
export function redrive(
  t: Transition,
  redriveCount: number,
  identity: string | undefined,
  env: DecideEnv,
): Ignored | DecisionNeed {
  const snapshot = t.snapshot;
  if (!snapshot) return "unknown-execution";
  if (
    snapshot.status === ExecutionStatus.EXECUTION_STATUS_RUNNING ||
    snapshot.status === ExecutionStatus.EXECUTION_STATUS_SUCCEEDED
  ) {
    return "not-running";
  }
  const from = snapshot.redriveState;
  if (!from) return "stale";
  const run = new Run(t, env);
  const state = run.state(from.name);
  const round: ChildrenPhase | undefined =
    from.phase?.$case === "children" ? from.phase.value : from.failedChildren;
  let outputs: ReadonlyMap<number, string> | undefined;
  if ((state.Type === "Map" || state.Type === "Parallel") && round) {
    outputs = env.childOutputs?.(round.startedEventId);
    if (!outputs) return { kind: "child-outputs", startedEventId: round.startedEventId };
  }
  const topLevel = !isChildExecution(snapshot) && !snapshot.parent;
  const timeoutSeconds = topLevel ? snapshot.timeoutSeconds : 0;
  t.emit({
    $case: "executionRedriven",
    value: {
      redriveCount,
      identity,
      timeoutTimerId:
        timeoutSeconds > 0 ? timerIds.redrivenExecutionTimeout(snapshot.executionId, redriveCount) : "",
      stateName: from.name,
      timeoutSeconds,
    },
  });
  if ((state.Type === "Map" || state.Type === "Parallel") && round && outputs) {
    t.emit(
      {
        $case: "stateEntered",
        value: { stateName: from.name, stateType: state.Type, inputJson: from.inputJson },
      },
      from.name,
    );
    const next = continueWith(redriveChildren(run, state, round, outputs));
    if (next && typeof next === "object" && "enter" in next) enter(run, next.enter);
    return undefined;
  }
  enter(run, { name: from.name, input: parseJson(from.inputJson) });
  return undefined;
}
