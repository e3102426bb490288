/**
 * One decision over one execution: the transition being built, the environment, and the steps
 * every concern shares (looking up states, the evaluation environment, leaving a state, failing
 * the execution, abandoning what the active state waits for). The concerns (entering states,
 * tasks, timers, retry and catch, children) are functions over a Run, each returning the state to
 * enter next as a value, so that none of them calls another concern back.
 */
import { StatesError, applyAssignments } from "@jetflow/asl";
import type { Json, MapState, ParallelState, State, StateMachine, TaskState, Variables } from "@jetflow/asl";
import type { ActiveState, ChildrenPhase, ExecutionSnapshot } from "@jetflow/contracts";
import { childIdPrefix, hasBit } from "../model";
import { evaluationEnv, isChildExecution, rootExecutionOf } from "./context";
import type { RootExecution } from "./context";
import type { DecideEnv, DecisionNeed, Ignored } from "./env";
import { resolveMachine } from "./machine";
import type { Transition } from "./transition";

/** A state to enter next, with its input. */
export interface NextState {
  readonly name: string;
  readonly input: Json;
}

/**
 * What handling a command led to: ignored (why) or done (undefined), a state to enter next, or
 * data the decision needs first.
 */
export type Handled = Ignored | { readonly enter: NextState } | { readonly need: DecisionNeed };

/** `Handled` for a step that may continue with a state to enter. */
export function continueWith(next: NextState | undefined): Handled {
  return next ? { enter: next } : undefined;
}

/** A state whose errors Retry and Catch can handle. */
export type Recoverable = TaskState | ParallelState | MapState;

/** Parses a JSON text of a snapshot or an event ("" is null). */
export function parseJson(text: string): Json {
  return text === "" ? null : (JSON.parse(text) as Json);
}

/** Anything thrown while evaluating ASL, as the ASL error it becomes (`States.Runtime` if unnamed). */
export function toStatesError(err: unknown): StatesError {
  if (err instanceof StatesError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new StatesError("States.Runtime", message);
}

/** One decision over one execution. */
export class Run {
  readonly machine: StateMachine;
  /** States entered so far by this decision (a Pass/Choice loop is bounded). */
  statesEntered = 0;

  constructor(
    readonly t: Transition,
    readonly env: DecideEnv,
  ) {
    this.machine = resolveMachine(env.definition, this.snapshot.machinePath);
  }

  get snapshot(): ExecutionSnapshot {
    const snapshot = this.t.snapshot;
    if (!snapshot) throw new Error("no snapshot");
    return snapshot;
  }

  get executionId(): string {
    return this.snapshot.executionId;
  }

  state(name: string): State {
    const state = Object.prototype.hasOwnProperty.call(this.machine.States, name)
      ? this.machine.States[name]
      : undefined;
    if (!state) throw new StatesError("States.Runtime", `state "${name}" does not exist`);
    return state;
  }

  /** `$$.Execution`'s source: the top-level execution, which a child must be given. */
  private rootExecution(): RootExecution {
    const snapshot = this.snapshot;
    if (!isChildExecution(snapshot)) return rootExecutionOf(snapshot);
    const root = this.env.root;
    if (root?.executionId !== snapshot.rootExecutionId) {
      throw new Error(`the top-level execution "${snapshot.rootExecutionId}" of a child was not provided`);
    }
    return root;
  }

  active(): ActiveState {
    const active = this.snapshot.active;
    if (!active) throw new Error("no active state");
    return active;
  }

  envFor(active: ActiveState, token?: string) {
    const retries = active.retryCounts.reduce((sum, n) => sum + n, 0);
    const env = evaluationEnv(
      this.snapshot,
      this.rootExecution(),
      active.name,
      active.enteredTime ?? this.env.now,
      retries,
      this.env,
      token,
    );
    env.nowMs = this.env.now.getTime();
    return env;
  }

  /**
   * The JSON text of the variables a state assigns, checked against the total size limit with
   * the variables it sees; undefined when it assigns none. Throws `StatesError`
   * `States.DataLimitExceeded`.
   */
  assignedJson(assigned: Variables | undefined): string | undefined {
    if (assigned === undefined || Object.keys(assigned).length === 0) return undefined;
    const current = this.snapshot.variablesJson;
    applyAssignments(current ? (JSON.parse(current) as Variables) : undefined, assigned);
    return JSON.stringify(assigned);
  }

  /** The active state's children phase, read afresh (every emitted event replaces the snapshot). */
  children(): ChildrenPhase | undefined {
    const phase = this.snapshot.active?.phase;
    return phase?.$case === "children" ? phase.value : undefined;
  }

  /**
   * Leaves state `name` with `output` and the variables it assigned (JSON text from
   * {@link assignedJson}): on to Next, or the end of the execution.
   */
  exit(name: string, output: Json, assignedJson?: string): NextState | undefined {
    const state = this.state(name);
    const outputJson = JSON.stringify(output);
    this.t.emit({ $case: "stateExited", value: { stateName: name, outputJson, assignedJson } }, name);
    const next = "Next" in state ? state.Next : undefined;
    if (next !== undefined && !(state.Type === "Succeed")) return { name: next, input: output };
    this.t.emit({ $case: "executionSucceeded", value: { outputJson } });
    return undefined;
  }

  failExecution(error: string, cause: string): void {
    this.abandonActive();
    this.t.emit({ $case: "executionFailed", value: { error, cause } });
  }

  /** Cancels what the active state waits for: its task or its children. */
  abandonActive(): void {
    const active = this.snapshot.active;
    const phase = active?.phase;
    if (!active || !phase) return;
    if (phase.$case === "task") {
      this.t.emit(
        {
          $case: "taskCancelled",
          value: { taskToken: phase.value.taskToken, activity: phase.value.activity },
        },
        active.name,
      );
    } else if (phase.$case === "children") {
      this.cancelChildren(active.name, phase.value);
    }
  }

  /** Stops the children of a round that are launched and not completed. */
  cancelChildren(stateName: string, children: ChildrenPhase): void {
    const indices: number[] = [];
    for (let i = 0; i < children.launched; i++) if (!hasBit(children.completed, i)) indices.push(i);
    if (indices.length === 0) return;
    this.t.emit(
      {
        $case: "childrenCancelled",
        value: { idPrefix: childIdPrefix(this.executionId, children.startedEventId), indices },
      },
      stateName,
    );
  }
}
