/**
 * The workflow semantics, pure: given an execution's snapshot and its commands, the events that
 * follow from the Amazon States Language, as one Transition. No I/O, no clock (the time is in the
 * env), no NATS: the adapter loads, commits and acks around it. A decision that needs data only
 * the adapter can read returns that need as a value; the adapter reads it and decides again.
 *
 * The concerns live apart: entering states (entering.ts), tasks (task.ts), timers (timers.ts),
 * Retry and Catch (recovery.ts), Parallel and Map children (children.ts).
 */
import { ExecutionStatus } from "@jetflow/contracts";
import type { Command, ExecutionSnapshot } from "@jetflow/contracts";
import { applyChildCompleted, continueChildren } from "./children";
import { begin, enter } from "./entering";
import type { DecideEnv, DecisionNeed, Ignored } from "./env";
import { Run } from "./run";
import type { Handled } from "./run";
import { redrive } from "./redrive";
import { applyTaskOutcome } from "./task";
import { applyTimerFired } from "./timers";
import { Transition } from "./transition";

/**
 * Applies `command` to the execution whose current state is `t.snapshot`, appending events to
 * `t`. Returns why nothing happened, if nothing did, or what the decision needs first; after a
 * need, `t` holds a partial decision and must be discarded (see {@link decideTransition}).
 * @throws on a bug or an unusable definition (a machine path that leads nowhere)
 */
export function applyCommand(t: Transition, command: Command, env: DecideEnv): Ignored | DecisionNeed {
  const kind = command.kind;
  if (!kind) return "malformed";
  const snapshot = t.snapshot;
  if (kind.$case === "begin") {
    const child = kind.value.child;
    if (snapshot && child?.parent && child.redriveCount > snapshot.redriveCount) {
      // Relaunched by a redriven parent: an unsuccessful child is redriven; one still running
      // (its stop not applied yet) is tried again once it has ended (see evidence.ts).
      if (snapshot.status === ExecutionStatus.EXECUTION_STATUS_RUNNING) return "stale";
      if (snapshot.status === ExecutionStatus.EXECUTION_STATUS_SUCCEEDED) {
        // Its success reached the parent after the parent had ended: report it again.
        t.emit({
          $case: "childResultReported",
          value: { redriveCount: child.redriveCount, outputJson: snapshot.outputJson },
        });
        return undefined;
      }
      return redrive(t, child.redriveCount, undefined, env);
    }
    return begin(t, child, env);
  }
  if (kind.$case === "redrive") {
    if (snapshot && snapshot.redriveCount !== kind.value.expectedRedriveCount) return "duplicate";
    return redrive(t, kind.value.expectedRedriveCount + 1, kind.value.identity, env);
  }
  if (!snapshot) return "unknown-execution";
  if (snapshot.status !== ExecutionStatus.EXECUTION_STATUS_RUNNING) return "not-running";
  const run = new Run(t, env);
  let handled: Handled;
  switch (kind.$case) {
    case "taskOutcome":
      handled = applyTaskOutcome(run, kind.value);
      break;
    case "timerFired":
      handled = kind.value.timer ? applyTimerFired(run, kind.value.timer) : "malformed";
      break;
    case "childCompleted":
      handled = applyChildCompleted(run, kind.value);
      break;
    case "stop":
      run.abandonActive();
      t.emit({
        $case: "executionAborted",
        value: { error: kind.value.error, cause: kind.value.cause, identity: kind.value.identity },
      });
      handled = undefined;
      break;
    case "continueChildren":
      handled = continueChildren(run, kind.value.entryEventId);
      break;
    default: {
      const never: never = kind;
      throw new Error(`unknown command ${JSON.stringify(never)}`);
    }
  }
  if (handled === undefined || typeof handled === "string") return handled;
  if ("need" in handled) return handled.need;
  enter(run, handled.enter);
  return undefined;
}

/** True when `applied` (what {@link applyCommand} returned) is a need rather than a result. */
export function isDecisionNeed(applied: Ignored | DecisionNeed): applied is DecisionNeed {
  return typeof applied === "object";
}

/** One transition decided for a group of commands of one execution. */
export type TransitionDecision =
  /** Decided: `ignored[i]` says why command `i` changed nothing (undefined when it did something). */
  | { readonly kind: "decided"; readonly transition: Transition; readonly ignored: Ignored[] }
  /** The decision needs data first: read it, provide it in the env, and decide again. */
  | { readonly kind: "needs"; readonly need: DecisionNeed }
  /** Command `commandIndex` cannot be applied (a bug or an unusable definition): `error` says why. */
  | { readonly kind: "failed"; readonly commandIndex: number; readonly error: unknown };

/**
 * Decides one transition: applies `commands`, in order, to the execution `executionId` whose
 * snapshot is `snapshot` (undefined when it does not exist yet). The snapshot is not modified.
 */
export function decideTransition(
  executionId: string,
  snapshot: ExecutionSnapshot | undefined,
  commands: readonly Command[],
  env: DecideEnv,
): TransitionDecision {
  const transition = new Transition(executionId, snapshot, env.now);
  const ignored: Ignored[] = [];
  for (const [index, command] of commands.entries()) {
    let applied: Ignored | DecisionNeed;
    try {
      applied = applyCommand(transition, command, env);
    } catch (error) {
      return { kind: "failed", commandIndex: index, error };
    }
    if (isDecisionNeed(applied)) return { kind: "needs", need: applied };
    ignored.push(applied);
  }
  return { kind: "decided", transition, ignored };
}
