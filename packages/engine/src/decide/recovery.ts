/** Retry and Catch: what an error raised by a Task, Parallel or Map state leads to. */
import { catchAssignments, catchOutput, decideRetry, findCatcher } from "@jetflow/asl";
import type { Json, StatesError } from "@jetflow/asl";
import { timerIds } from "../model";
import { parseJson, toStatesError } from "./run";
import type { NextState, Recoverable, Run } from "./run";

/**
 * Handles `error` raised by the active Task/Parallel/Map state: a matching retrier schedules a
 * retry after its delay, else a matching catcher moves on (the state to enter next is returned),
 * else the execution fails.
 */
export function recover(run: Run, state: Recoverable, error: StatesError): NextState | undefined {
  const { t, env } = run;
  const active = run.active();
  const decision = decideRetry(state, error.error, active.retryCounts, () => env.random());
  if (decision.retry) {
    const fireTime = new Date(env.now.getTime() + decision.delayMs);
    t.emit(
      {
        $case: "taskRetryScheduled",
        value: {
          error: error.error,
          nextAttempt: Math.max(active.attempt, 1) + 1,
          delayMs: decision.delayMs,
          timerId: timerIds.retry(run.executionId, t.nextEventId),
          fireTime,
          retrierIndex: decision.retrierIndex,
        },
      },
      active.name,
    );
    return undefined;
  }
  const catcher = findCatcher(state, error.error);
  if (catcher) {
    let output: Json;
    let assignedJson: string | undefined;
    try {
      const input = parseJson(active.inputJson);
      const env = run.envFor(active);
      const details = { error: error.error, cause: error.cause };
      output = catchOutput(state, catcher.index, input, details, env);
      assignedJson = run.assignedJson(
        catchAssignments(state, catcher.index, input, error.toErrorOutput(), env),
      );
    } catch (err) {
      const e = toStatesError(err);
      run.failExecution(e.error, e.cause);
      return undefined;
    }
    t.emit(
      {
        $case: "stateExited",
        value: { stateName: active.name, outputJson: JSON.stringify(output), assignedJson },
      },
      active.name,
    );
    return { name: catcher.next, input: output };
  }
  run.failExecution(error.error, error.cause);
  return undefined;
}
