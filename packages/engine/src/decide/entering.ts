/**
 * Entering states: a new execution's first state, and every state after it that completes at
 * once (Pass, Choice, Succeed, Fail, a Wait already due), until one waits for an outside event
 * (a Task, a Wait, a Parallel or Map round) or the execution ends.
 */
import {
  choiceAssignments,
  choiceOutput,
  chooseRule,
  effectiveInput,
  failDetails,
  isJsonataState,
  jsonataChoiceOutput,
  passResult,
  passThroughOutput,
  stateAssignments,
  waitUntilMs,
} from "@jetflow/asl";
import type { Json, State } from "@jetflow/asl";
import { ExecutionStatus } from "@jetflow/contracts";
import type { ChildStart, ExecutionSnapshot } from "@jetflow/contracts";
import { timerIds } from "../model";
import { startChildren } from "./children";
import { DEFAULT_MAX_STATES } from "./env";
import type { DecideEnv, Ignored } from "./env";
import { recover } from "./recovery";
import { Run, parseJson, toStatesError } from "./run";
import type { NextState } from "./run";
import { scheduleTask } from "./task";
import type { Transition } from "./transition";

/**
 * BeginExecution: a child's first events (ExecutionStarted, from its parent's round), or a
 * top-level execution's first state after the ExecutionStarted the gateway appended.
 */
export function begin(t: Transition, child: ChildStart | undefined, env: DecideEnv): Ignored {
  const snapshot = t.snapshot;
  if (!snapshot) {
    if (!child?.parent) return "unknown-execution";
    t.emit({
      $case: "executionStarted",
      value: {
        workflowName: child.workflowName,
        workflowVersion: child.workflowVersion,
        inputJson: child.inputJson,
        executionName: "",
        machinePath: child.machinePath,
        parent: child.parent,
        rootExecutionId: child.rootExecutionId,
        timeoutSeconds: 0,
        timeoutTimerId: "",
        variablesJson: child.variablesJson,
        redriveCount: child.redriveCount,
        scheduleId: "",
      },
    });
  } else if (snapshot.status !== ExecutionStatus.EXECUTION_STATUS_RUNNING) {
    return "not-running";
  } else if (snapshot.lastEventId !== 1 || snapshot.active) {
    return "duplicate";
  }
  const started = t.snapshot as ExecutionSnapshot;
  const run = new Run(t, env);
  enter(run, { name: run.machine.StartAt, input: parseJson(started.inputJson) });
  return undefined;
}

/** Enters state `first` and runs every step that needs no outside event. */
export function enter(run: Run, first: NextState): void {
  const maxStates = run.env.maxStatesPerTransition ?? DEFAULT_MAX_STATES;
  let next: NextState | undefined = first;
  while (next) {
    if (++run.statesEntered > maxStates) {
      run.failExecution(
        "States.Runtime",
        `more than ${maxStates} states were entered without a Task, Wait, Parallel or Map state: a loop?`,
      );
      return;
    }
    next = enterOne(run, next.name, next.input);
  }
}

/** Enters one state; returns the state to enter next when this one completed at once. */
function enterOne(run: Run, name: string, input: Json): NextState | undefined {
  const { t, env: decideEnv } = run;
  let state: State;
  try {
    state = run.state(name);
  } catch (err) {
    run.failExecution(toStatesError(err).error, toStatesError(err).cause);
    return undefined;
  }
  const inputJson = JSON.stringify(input);
  t.emit({ $case: "stateEntered", value: { stateName: name, stateType: state.Type, inputJson } }, name);
  const active = run.active();
  const env = run.envFor(active);
  try {
    switch (state.Type) {
      case "Pass": {
        const output = passResult(state, input, env);
        if (state.Assign === undefined) return run.exit(name, output);
        // A JSONPath Pass state's Assign sees its result: Result, else the effective input.
        const result = isJsonataState(state)
          ? undefined
          : state.Result !== undefined
            ? state.Result
            : effectiveInput(state, input, env);
        return run.exit(name, output, run.assignedJson(stateAssignments(state, input, result, env)));
      }
      case "Succeed":
        return run.exit(name, passThroughOutput(state, input, env));
      case "Choice": {
        const choice = chooseRule(state, input, env);
        const output = isJsonataState(state)
          ? jsonataChoiceOutput(state, input, choice, env)
          : choiceOutput(state, input, env);
        const assignedJson = run.assignedJson(
          choiceAssignments(state, choice.rule, choice.ruleIndex, input, env),
        );
        t.emit(
          {
            $case: "stateExited",
            value: { stateName: name, outputJson: JSON.stringify(output), assignedJson },
          },
          name,
        );
        return { name: choice.next, input: output };
      }
      case "Fail": {
        const { error, cause } = failDetails(state, input, env);
        run.failExecution(error, cause);
        return undefined;
      }
      case "Wait": {
        const nowMs = decideEnv.now.getTime();
        const until = waitUntilMs(state, input, nowMs, env);
        if (until <= nowMs) {
          const output = passThroughOutput(state, input, env);
          return run.exit(name, output, run.assignedJson(stateAssignments(state, input, undefined, env)));
        }
        const timerId = timerIds.wait(run.executionId, t.nextEventId);
        t.emit({ $case: "waitStarted", value: { fireTime: new Date(until), timerId } }, name);
        return undefined;
      }
      case "Task":
        scheduleTask(run, state, input, 1);
        return undefined;
      case "Parallel":
      case "Map":
        return startChildren(run, state, input);
    }
  } catch (err) {
    if (state.Type === "Task" || state.Type === "Parallel" || state.Type === "Map") {
      return recover(run, state, toStatesError(err));
    }
    const e = toStatesError(err);
    run.failExecution(e.error, e.cause);
    return undefined;
  }
}
