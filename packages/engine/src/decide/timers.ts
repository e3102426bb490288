/** Durable timers as they fire: the execution's timeout, a Wait, a retry back-off, a task's timeouts. */
import { StatesError, passThroughOutput, stateAssignments } from "@jetflow/asl";
import type { Json } from "@jetflow/asl";
import { TimerKind } from "@jetflow/contracts";
import type { Timer } from "@jetflow/contracts";
import { startChildren } from "./children";
import { recover } from "./recovery";
import { continueWith, parseJson, toStatesError } from "./run";
import type { Handled, Run } from "./run";
import { scheduleTask } from "./task";

/** Applies a fired timer; a timer the execution no longer waits for is "stale". */
export function applyTimerFired(run: Run, timer: Timer): Handled {
  const { t, snapshot } = run;
  const active = snapshot.active;
  switch (timer.kind) {
    case TimerKind.TIMER_KIND_EXECUTION_TIMEOUT: {
      if (timer.timerId !== snapshot.timeoutTimerId) return "stale";
      const cause = `execution exceeded its TimeoutSeconds of ${snapshot.timeoutSeconds}`;
      run.abandonActive();
      t.emit({ $case: "executionTimedOut", value: { error: "States.Timeout", cause } });
      return undefined;
    }
    case TimerKind.TIMER_KIND_WAIT: {
      if (active?.phase?.$case !== "wait" || active.phase.value.timerId !== timer.timerId) return "stale";
      t.emit({ $case: "waitFinished", value: {} }, active.name);
      const state = run.state(active.name);
      let output: Json;
      let assignedJson: string | undefined;
      try {
        const input = parseJson(active.inputJson);
        const env = run.envFor(active);
        output = passThroughOutput(state, input, env);
        assignedJson = run.assignedJson(stateAssignments(state, input, undefined, env));
      } catch (err) {
        const e = toStatesError(err);
        run.failExecution(e.error, e.cause);
        return undefined;
      }
      return continueWith(run.exit(active.name, output, assignedJson));
    }
    case TimerKind.TIMER_KIND_RETRY: {
      if (active?.phase?.$case !== "retryBackoff" || active.phase.value.timerId !== timer.timerId)
        return "stale";
      const state = run.state(active.name);
      const input = parseJson(active.inputJson);
      try {
        if (state.Type === "Task") scheduleTask(run, state, input, Math.max(active.attempt, 1) + 1);
        else if (state.Type === "Parallel" || state.Type === "Map") {
          return continueWith(startChildren(run, state, input));
        } else return "stale";
      } catch (err) {
        if (state.Type === "Task" || state.Type === "Parallel" || state.Type === "Map") {
          return continueWith(recover(run, state, toStatesError(err)));
        }
      }
      return undefined;
    }
    case TimerKind.TIMER_KIND_TASK_TIMEOUT:
    case TimerKind.TIMER_KIND_HEARTBEAT_TIMEOUT: {
      if (active?.phase?.$case !== "task" || active.phase.value.taskToken !== timer.taskToken) return "stale";
      const state = run.state(active.name);
      if (state.Type !== "Task") return "stale";
      const heartbeat = timer.kind === TimerKind.TIMER_KIND_HEARTBEAT_TIMEOUT;
      const error = heartbeat ? "States.HeartbeatTimeout" : "States.Timeout";
      const cause = heartbeat
        ? `no heartbeat within ${active.phase.value.heartbeatSeconds} seconds`
        : `task did not finish within ${active.phase.value.timeoutSeconds} seconds`;
      const { taskToken: token, activity } = active.phase.value;
      t.emit({ $case: "taskTimedOut", value: { taskToken: token, error, cause } }, active.name);
      // The worker may still be running it: tell it to stop.
      t.emit({ $case: "taskCancelled", value: { taskToken: token, activity } }, active.name);
      return continueWith(recover(run, state, new StatesError(error, cause)));
    }
    default:
      return "malformed";
  }
}
