/** Task states: scheduling an attempt, applying its outcome, and judging a late result. */
import {
  StatesError,
  activityName,
  effectiveInput,
  stateAssignments,
  stateOutput,
  taskTimeouts,
} from "@jetflow/asl";
import type { Json, TaskState } from "@jetflow/asl";
import type { TaskOutcome, TaskPhase } from "@jetflow/contracts";
import { taskToken } from "../model";
import type { DecideEnv } from "./env";
import { recover } from "./recovery";
import { continueWith, parseJson, toStatesError } from "./run";
import type { Handled, Run } from "./run";

/** Schedules attempt `attempt` of the active Task state with `input`. */
export function scheduleTask(run: Run, state: TaskState, input: Json, attempt: number): void {
  const active = run.active();
  const token = taskToken(run.executionId, run.t.nextEventId);
  const env = run.envFor(active, token);
  const effective = effectiveInput(state, input, env);
  const timeouts = taskTimeouts(state, input, env);
  run.t.emit(
    {
      $case: "taskScheduled",
      value: {
        taskToken: token,
        activity: activityName(state.Resource),
        attempt,
        inputJson: JSON.stringify(effective),
        timeoutSeconds: timeouts.timeoutSeconds ?? 0,
        heartbeatSeconds: timeouts.heartbeatSeconds ?? 0,
        stateName: active.name,
        workflowName: run.snapshot.workflowName,
      },
    },
    active.name,
  );
}

/** Applies a worker's outcome of the active task: on to the next state, Retry/Catch, or ignored. */
export function applyTaskOutcome(run: Run, outcome: TaskOutcome): Handled {
  const { t } = run;
  const active = run.snapshot.active;
  if (active?.phase?.$case !== "task" || active.phase.value.taskToken !== outcome.taskToken) return "stale";
  const state = run.state(active.name);
  if (state.Type !== "Task") return "stale";
  const name = active.name;
  const token = outcome.taskToken;
  const late = lateness(active.phase.value, outcome, run.env);
  if (late) {
    // Decided on recorded times, so the outcome does not depend on whether the result or the
    // timeout timer reaches us first: a result received past the deadline is a timeout.
    t.emit({ $case: "taskTimedOut", value: { taskToken: token, ...late } }, name);
    return continueWith(recover(run, state, new StatesError(late.error, late.cause)));
  }
  if (outcome.workerId) {
    t.emit({ $case: "taskStarted", value: { taskToken: token, workerId: outcome.workerId } }, name);
  }
  const result = outcome.outcome;
  if (!result) return "malformed";
  if (result.$case === "failure") {
    t.emit(
      {
        $case: "taskFailed",
        value: { taskToken: token, error: result.value.error, cause: result.value.cause },
      },
      name,
    );
    return continueWith(
      recover(run, state, new StatesError(result.value.error || "States.TaskFailed", result.value.cause)),
    );
  }
  t.emit({ $case: "taskSucceeded", value: { taskToken: token, outputJson: result.value } }, name);
  let output: Json;
  let assignedJson: string | undefined;
  try {
    const rawInput = parseJson(active.inputJson);
    const taskResult = parseJson(result.value);
    const env = run.envFor(active, token);
    output = stateOutput(state, rawInput, taskResult, env);
    if (state.Assign !== undefined) {
      assignedJson = run.assignedJson(stateAssignments(state, rawInput, taskResult, env));
    }
  } catch (err) {
    return continueWith(recover(run, state, toStatesError(err)));
  }
  return continueWith(run.exit(name, output, assignedJson));
}

/**
 * Whether a task's outcome was received past its deadline: more than TimeoutSeconds after the
 * task was scheduled, or more than HeartbeatSeconds after its last heartbeat (or its schedule,
 * when it never sent one). Undefined when it was in time or when its receipt time is unknown.
 */
export function lateness(
  task: TaskPhase,
  outcome: TaskOutcome,
  env: Pick<DecideEnv, "lastHeartbeatMs">,
): { error: string; cause: string } | undefined {
  const receivedMs = outcome.receivedTime?.getTime();
  const scheduledMs = task.scheduledTime?.getTime();
  if (receivedMs === undefined || scheduledMs === undefined) return undefined;
  if (task.timeoutSeconds > 0 && receivedMs > scheduledMs + task.timeoutSeconds * 1000) {
    return {
      error: "States.Timeout",
      cause: `task did not finish within ${task.timeoutSeconds} seconds (its result arrived ${receivedMs - scheduledMs - task.timeoutSeconds * 1000} ms late)`,
    };
  }
  if (task.heartbeatSeconds > 0 && receivedMs > scheduledMs + task.heartbeatSeconds * 1000) {
    const lastBeatMs = Math.max(env.lastHeartbeatMs?.(outcome.taskToken) ?? scheduledMs, scheduledMs);
    if (receivedMs > lastBeatMs + task.heartbeatSeconds * 1000) {
      return {
        error: "States.HeartbeatTimeout",
        cause: `no heartbeat within ${task.heartbeatSeconds} seconds before the result arrived`,
      };
    }
  }
  return undefined;
}
