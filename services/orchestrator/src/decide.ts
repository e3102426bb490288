/**
 * The workflow semantics, pure: given an execution's snapshot and one command, append the events
 * that follow from the Amazon States Language to a Transition. No I/O, no clock (the time is in
 * the env), no NATS: the adapter loads, commits and acks around it.
 */
import {
  StatesError,
  activityName,
  catchOutput,
  chooseNext,
  choiceOutput,
  decideRetry,
  effectiveInput,
  failDetails,
  findCatcher,
  mapItemInput,
  mapItems,
  maxConcurrency as mapMaxConcurrency,
  passResult,
  passThroughOutput,
  stateOutput,
  taskTimeouts,
  toleratedFailures,
  waitUntilMs,
} from "@jetflow/asl";
import type { Json, MapState, ParallelState, State, StateMachine, TaskState } from "@jetflow/asl";
import { ExecutionStatus, TimerKind } from "@jetflow/contracts";
import type {
  ActiveState,
  ChildCompleted,
  ChildStart,
  ChildrenPhase,
  Command,
  ExecutionSnapshot,
  TaskOutcome,
  TaskPhase,
  Timer,
} from "@jetflow/contracts";
import {
  childExecutionId,
  childIdPrefix,
  hasBit,
  parseTaskToken,
  taskToken,
  timerIds,
} from "@jetflow/execution-model";
import { evaluationEnv, isChildExecution, rootExecutionOf } from "./context";
import type { Entropy, RootExecution } from "./context";
import { resolveMachine } from "./machine";
import type { Transition } from "./transition";

/** What a decision needs besides the snapshot and the command. */
export interface DecideEnv extends Entropy {
  /** The current time; every event of the transition carries it. */
  now: Date;
  /** The workflow's whole definition (the execution's machine is resolved from it). */
  definition: StateMachine;
  /** At most this many children are launched by one transition (bounded batch size). Default 500. */
  maxChildrenPerTransition?: number;
  /** Children's inputs launched by one transition add up to at most about this many bytes. Default 256 KiB. */
  maxLaunchBytesPerTransition?: number;
  /** At most this many states are entered by one transition (a Pass/Choice loop). Default 1000. */
  maxStatesPerTransition?: number;
  /**
   * Outputs of the succeeded children of a Parallel/Map round, by child index, read by the adapter
   * from the parent's history. Asked for only when the last child completes.
   */
  childOutputs?: (startedEventId: number) => ReadonlyMap<number, string> | undefined;
  /**
   * The top-level execution that `$$.Execution` shows; required when deciding for a child
   * execution (a branch or an iteration), whose own snapshot holds only its own input.
   */
  root?: RootExecution;
  /**
   * The last heartbeat recorded for a task attempt, in epoch ms (undefined when none was). Asked
   * only for a result received more than HeartbeatSeconds after its task was scheduled.
   */
  lastHeartbeatMs?: (taskToken: string) => number | undefined;
}

/** Thrown when the decision needs the children's outputs, which the adapter must fetch first. */
export class ChildOutputsNeeded extends Error {
  override readonly name = "ChildOutputsNeeded";
  constructor(readonly startedEventId: number) {
    super(`child outputs of round ${startedEventId} are needed`);
  }
}

const DEFAULT_MAX_CHILDREN = 500;
const DEFAULT_MAX_LAUNCH_BYTES = 256 * 1024;
const DEFAULT_MAX_STATES = 1000;

/** Why a command changed nothing (for logs and counters); undefined when it did something. */
export type Ignored = "unknown-execution" | "not-running" | "stale" | "duplicate" | "malformed" | undefined;

/**
 * Applies `command` to the execution whose current state is `t.snapshot`, appending events to `t`.
 * Returns why nothing happened, if nothing did.
 */
export function applyCommand(t: Transition, command: Command, env: DecideEnv): Ignored {
  const kind = command.kind;
  if (!kind) return "malformed";
  const snapshot = t.snapshot;
  if (kind.$case === "begin") return begin(t, kind.value.child, env);
  if (!snapshot) return "unknown-execution";
  if (snapshot.status !== ExecutionStatus.EXECUTION_STATUS_RUNNING) return "not-running";
  const run = new Run(t, env);
  switch (kind.$case) {
    case "taskOutcome":
      return run.taskOutcome(kind.value);
    case "timerFired":
      return kind.value.timer ? run.timerFired(kind.value.timer) : "malformed";
    case "childCompleted":
      return run.childCompleted(kind.value);
    case "stop":
      run.abandonActive();
      t.emit({
        $case: "executionAborted",
        value: { error: kind.value.error, cause: kind.value.cause, identity: kind.value.identity },
      });
      return undefined;
    case "continueChildren":
      return run.continueChildren(kind.value.entryEventId);
    default: {
      const never: never = kind;
      throw new Error(`unknown command ${JSON.stringify(never)}`);
    }
  }
}

function begin(t: Transition, child: ChildStart | undefined, env: DecideEnv): Ignored {
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
      },
    });
  } else if (snapshot.status !== ExecutionStatus.EXECUTION_STATUS_RUNNING) {
    return "not-running";
  } else if (snapshot.lastEventId !== 1 || snapshot.active) {
    return "duplicate";
  }
  const started = t.snapshot as ExecutionSnapshot;
  const run = new Run(t, env);
  run.enter(run.machine.StartAt, parseJson(started.inputJson));
  return undefined;
}

function parseJson(text: string): Json {
  return text === "" ? null : (JSON.parse(text) as Json);
}

function toStatesError(err: unknown): StatesError {
  if (err instanceof StatesError) return err;
  if (err instanceof ChildOutputsNeeded) throw err;
  const message = err instanceof Error ? err.message : String(err);
  return new StatesError("States.Runtime", message);
}

type Recoverable = TaskState | ParallelState | MapState;

/** One decision over one execution. */
class Run {
  readonly machine: StateMachine;
  private statesEntered = 0;

  constructor(
    private readonly t: Transition,
    private readonly env: DecideEnv,
  ) {
    this.machine = resolveMachine(env.definition, this.snapshot.machinePath);
  }

  private get snapshot(): ExecutionSnapshot {
    const snapshot = this.t.snapshot;
    if (!snapshot) throw new Error("no snapshot");
    return snapshot;
  }

  private get executionId(): string {
    return this.snapshot.executionId;
  }

  private state(name: string): State {
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

  private active(): ActiveState {
    const active = this.snapshot.active;
    if (!active) throw new Error("no active state");
    return active;
  }

  private envFor(active: ActiveState, token?: string) {
    const retries = active.retryCounts.reduce((sum, n) => sum + n, 0);
    return evaluationEnv(
      this.snapshot,
      this.rootExecution(),
      active.name,
      active.enteredTime ?? this.env.now,
      retries,
      this.env,
      token,
    );
  }

  // ---- entering and leaving states ----

  /** Enters state `name` with `input` and runs every step that needs no outside event. */
  enter(name: string, input: Json): void {
    let next: { name: string; input: Json } | undefined = { name, input };
    while (next) {
      if (++this.statesEntered > (this.env.maxStatesPerTransition ?? DEFAULT_MAX_STATES)) {
        this.failExecution(
          "States.Runtime",
          `more than ${this.env.maxStatesPerTransition ?? DEFAULT_MAX_STATES} states were entered without a Task, Wait, Parallel or Map state: a loop?`,
        );
        return;
      }
      next = this.enterOne(next.name, next.input);
    }
  }

  /** Enters one state; returns the state to enter next when this one completed at once. */
  private enterOne(name: string, input: Json): { name: string; input: Json } | undefined {
    let state: State;
    try {
      state = this.state(name);
    } catch (err) {
      this.failExecution(toStatesError(err).error, toStatesError(err).cause);
      return undefined;
    }
    const inputJson = JSON.stringify(input);
    this.t.emit(
      { $case: "stateEntered", value: { stateName: name, stateType: state.Type, inputJson } },
      name,
    );
    const active = this.active();
    const env = this.envFor(active);
    try {
      switch (state.Type) {
        case "Pass":
          return this.exit(name, passResult(state, input, env));
        case "Succeed":
          return this.exit(name, passThroughOutput(state, input));
        case "Choice": {
          const chosen = chooseNext(state, input, env.context);
          const output = choiceOutput(state, input);
          this.t.emit(
            { $case: "stateExited", value: { stateName: name, outputJson: JSON.stringify(output) } },
            name,
          );
          return { name: chosen, input: output };
        }
        case "Fail": {
          const { error, cause } = failDetails(state, input, env);
          this.failExecution(error, cause);
          return undefined;
        }
        case "Wait": {
          const until = waitUntilMs(state, input, this.env.now.getTime());
          if (until <= this.env.now.getTime()) return this.exit(name, passThroughOutput(state, input));
          const timerId = timerIds.wait(this.executionId, this.t.nextEventId);
          this.t.emit({ $case: "waitStarted", value: { fireTime: new Date(until), timerId } }, name);
          return undefined;
        }
        case "Task":
          this.scheduleTask(state, input, 1);
          return undefined;
        case "Parallel":
        case "Map":
          return this.startChildren(state, input);
      }
    } catch (err) {
      if (state.Type === "Task" || state.Type === "Parallel" || state.Type === "Map") {
        return this.recover(state, toStatesError(err));
      }
      const e = toStatesError(err);
      this.failExecution(e.error, e.cause);
      return undefined;
    }
  }

  /** Leaves state `name` with `output`: on to Next, or the end of the execution. */
  private exit(name: string, output: Json): { name: string; input: Json } | undefined {
    const state = this.state(name);
    const outputJson = JSON.stringify(output);
    this.t.emit({ $case: "stateExited", value: { stateName: name, outputJson } }, name);
    const next = "Next" in state ? state.Next : undefined;
    if (next !== undefined && !(state.Type === "Succeed")) return { name: next, input: output };
    this.t.emit({ $case: "executionSucceeded", value: { outputJson } });
    return undefined;
  }

  /** Continues after the active state completed with `output` (from an outside event). */
  private complete(output: Json): void {
    const name = this.active().name;
    const next = this.exit(name, output);
    if (next) this.enter(next.name, next.input);
  }

  private failExecution(error: string, cause: string): void {
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

  private cancelChildren(stateName: string, children: ChildrenPhase): void {
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

  // ---- errors: Retry and Catch ----

  /**
   * Handles `error` raised by the active Task/Parallel/Map state: a matching retrier schedules a
   * retry after its delay, else a matching catcher moves on, else the execution fails.
   */
  private recover(state: Recoverable, error: StatesError): { name: string; input: Json } | undefined {
    const active = this.active();
    const decision = decideRetry(state, error.error, active.retryCounts, () => this.env.random());
    if (decision.retry) {
      const fireTime = new Date(this.env.now.getTime() + decision.delayMs);
      this.t.emit(
        {
          $case: "taskRetryScheduled",
          value: {
            error: error.error,
            nextAttempt: Math.max(active.attempt, 1) + 1,
            delayMs: decision.delayMs,
            timerId: timerIds.retry(this.executionId, this.t.nextEventId),
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
      try {
        output = catchOutput(state, catcher.index, parseJson(active.inputJson), {
          error: error.error,
          cause: error.cause,
        });
      } catch (err) {
        const e = toStatesError(err);
        this.failExecution(e.error, e.cause);
        return undefined;
      }
      this.t.emit(
        { $case: "stateExited", value: { stateName: active.name, outputJson: JSON.stringify(output) } },
        active.name,
      );
      return { name: catcher.next, input: output };
    }
    this.failExecution(error.error, error.cause);
    return undefined;
  }

  private recoverAndContinue(state: Recoverable, error: StatesError): void {
    const next = this.recover(state, error);
    if (next) this.enter(next.name, next.input);
  }

  // ---- Task ----

  private scheduleTask(state: TaskState, input: Json, attempt: number): void {
    const active = this.active();
    const token = taskToken(this.executionId, this.t.nextEventId);
    const effective = effectiveInput(state, input, this.envFor(active, token));
    const timeouts = taskTimeouts(state, input);
    this.t.emit(
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
          workflowName: this.snapshot.workflowName,
        },
      },
      active.name,
    );
  }

  taskOutcome(outcome: TaskOutcome): Ignored {
    const active = this.snapshot.active;
    if (active?.phase?.$case !== "task" || active.phase.value.taskToken !== outcome.taskToken) return "stale";
    const state = this.state(active.name);
    if (state.Type !== "Task") return "stale";
    const name = active.name;
    const token = outcome.taskToken;
    const late = lateness(active.phase.value, outcome, this.env);
    if (late) {
      // Decided on recorded times, so the outcome does not depend on whether the result or the
      // timeout timer reaches us first: a result received past the deadline is a timeout.
      this.t.emit({ $case: "taskTimedOut", value: { taskToken: token, ...late } }, name);
      this.recoverAndContinue(state, new StatesError(late.error, late.cause));
      return undefined;
    }
    if (outcome.workerId) {
      this.t.emit({ $case: "taskStarted", value: { taskToken: token, workerId: outcome.workerId } }, name);
    }
    const result = outcome.outcome;
    if (!result) return "malformed";
    if (result.$case === "failure") {
      this.t.emit(
        {
          $case: "taskFailed",
          value: { taskToken: token, error: result.value.error, cause: result.value.cause },
        },
        name,
      );
      this.recoverAndContinue(
        state,
        new StatesError(result.value.error || "States.TaskFailed", result.value.cause),
      );
      return undefined;
    }
    this.t.emit({ $case: "taskSucceeded", value: { taskToken: token, outputJson: result.value } }, name);
    let output: Json;
    try {
      const rawInput = parseJson(active.inputJson);
      output = stateOutput(state, rawInput, parseJson(result.value), this.envFor(active, token));
    } catch (err) {
      this.recoverAndContinue(state, toStatesError(err));
      return undefined;
    }
    this.complete(output);
    return undefined;
  }

  // ---- timers ----

  timerFired(timer: Timer): Ignored {
    const active = this.snapshot.active;
    switch (timer.kind) {
      case TimerKind.TIMER_KIND_EXECUTION_TIMEOUT: {
        if (timer.timerId !== this.snapshot.timeoutTimerId) return "stale";
        const cause = `execution exceeded its TimeoutSeconds of ${this.snapshot.timeoutSeconds}`;
        this.abandonActive();
        this.t.emit({ $case: "executionTimedOut", value: { error: "States.Timeout", cause } });
        return undefined;
      }
      case TimerKind.TIMER_KIND_WAIT: {
        if (active?.phase?.$case !== "wait" || active.phase.value.timerId !== timer.timerId) return "stale";
        this.t.emit({ $case: "waitFinished", value: {} }, active.name);
        const state = this.state(active.name);
        let output: Json;
        try {
          output = passThroughOutput(state, parseJson(active.inputJson));
        } catch (err) {
          const e = toStatesError(err);
          this.failExecution(e.error, e.cause);
          return undefined;
        }
        this.complete(output);
        return undefined;
      }
      case TimerKind.TIMER_KIND_RETRY: {
        if (active?.phase?.$case !== "retryBackoff" || active.phase.value.timerId !== timer.timerId)
          return "stale";
        const state = this.state(active.name);
        const input = parseJson(active.inputJson);
        try {
          if (state.Type === "Task") this.scheduleTask(state, input, Math.max(active.attempt, 1) + 1);
          else if (state.Type === "Parallel" || state.Type === "Map") {
            const next = this.startChildren(state, input);
            if (next) this.enter(next.name, next.input);
          } else return "stale";
        } catch (err) {
          if (state.Type === "Task" || state.Type === "Parallel" || state.Type === "Map") {
            this.recoverAndContinue(state, toStatesError(err));
          }
        }
        return undefined;
      }
      case TimerKind.TIMER_KIND_TASK_TIMEOUT:
      case TimerKind.TIMER_KIND_HEARTBEAT_TIMEOUT: {
        if (active?.phase?.$case !== "task" || active.phase.value.taskToken !== timer.taskToken)
          return "stale";
        const state = this.state(active.name);
        if (state.Type !== "Task") return "stale";
        const heartbeat = timer.kind === TimerKind.TIMER_KIND_HEARTBEAT_TIMEOUT;
        const error = heartbeat ? "States.HeartbeatTimeout" : "States.Timeout";
        const cause = heartbeat
          ? `no heartbeat within ${active.phase.value.heartbeatSeconds} seconds`
          : `task did not finish within ${active.phase.value.timeoutSeconds} seconds`;
        const { taskToken: token, activity } = active.phase.value;
        this.t.emit({ $case: "taskTimedOut", value: { taskToken: token, error, cause } }, active.name);
        // The worker may still be running it: tell it to stop.
        this.t.emit({ $case: "taskCancelled", value: { taskToken: token, activity } }, active.name);
        this.recoverAndContinue(state, new StatesError(error, cause));
        return undefined;
      }
      default:
        return "malformed";
    }
  }

  // ---- Parallel and Map ----

  /** Starts a round of children; returns the next state when there is nothing to wait for. */
  private startChildren(
    state: ParallelState | MapState,
    input: Json,
  ): { name: string; input: Json } | undefined {
    const active = this.active();
    const env = this.envFor(active);
    if (state.Type === "Parallel") {
      const effective = effectiveInput(state, input, env);
      this.t.emit({ $case: "parallelStarted", value: { branchCount: state.Branches.length } }, active.name);
      this.launch(state, effective);
    } else {
      const items = mapItems(state, input, env);
      const limit = mapMaxConcurrency(state, input);
      const tolerated = toleratedFailures(state, input, items.length).maxFailures;
      this.t.emit(
        {
          $case: "mapStarted",
          value: { itemCount: items.length, maxConcurrency: limit, toleratedFailures: tolerated },
        },
        active.name,
      );
      if (items.length === 0) return this.finishChildren(state, active, []);
      this.launch(state, input, items);
    }
    return undefined;
  }

  /** The active state's children phase, read afresh (every emitted event replaces the snapshot). */
  private children(): ChildrenPhase | undefined {
    const phase = this.snapshot.active?.phase;
    return phase?.$case === "children" ? phase.value : undefined;
  }

  /** Launches as many children as concurrency and the per-transition bound allow. */
  private launch(state: ParallelState | MapState, input: Json, items?: Json[]): void {
    const active = this.active();
    const initial = this.children();
    if (!initial) return;
    const running = initial.launched - initial.succeeded - initial.failed;
    const byConcurrency =
      initial.maxConcurrency > 0 ? initial.maxConcurrency - running : initial.total - initial.launched;
    const budget = this.env.maxChildrenPerTransition ?? DEFAULT_MAX_CHILDREN;
    const count = Math.max(0, Math.min(byConcurrency, initial.total - initial.launched, budget));
    const env = this.envFor(active);
    const byteBudget = this.env.maxLaunchBytesPerTransition ?? DEFAULT_MAX_LAUNCH_BYTES;
    let bytes = 0;
    let launched = 0;
    let mapItemsList = items;
    // Read before emitting: each emitted event updates the phase in place.
    const firstIndex = initial.launched;
    const startedEventId = initial.startedEventId;
    for (; launched < count && bytes < byteBudget; launched++) {
      const index = firstIndex + launched;
      const childId = childExecutionId(this.executionId, startedEventId, index);
      if (state.Type === "Parallel") {
        const inputJson = JSON.stringify(input);
        bytes += inputJson.length;
        this.t.emit(
          { $case: "parallelBranchStarted", value: { index, childExecutionId: childId, inputJson } },
          active.name,
        );
      } else {
        mapItemsList ??= mapItems(state, input, env);
        const item = mapItemsList[index] ?? null;
        const inputJson = JSON.stringify(mapItemInput(state, input, index, item, env));
        bytes += inputJson.length;
        this.t.emit(
          { $case: "mapIterationStarted", value: { index, childExecutionId: childId, inputJson } },
          active.name,
        );
      }
    }
    // A slice cut short by a per-transition budget (not by MaxConcurrency) continues by itself.
    const after = this.children();
    const cutShort = launched < count || count === budget;
    if (after && cutShort && after.launched < after.total) {
      const runningNow = after.launched - after.succeeded - after.failed;
      if (after.maxConcurrency === 0 || runningNow < after.maxConcurrency) {
        this.t.emit(
          {
            $case: "childLaunchPending",
            value: { nextIndex: after.launched, entryEventId: after.startedEventId },
          },
          active.name,
        );
      }
    }
  }

  continueChildren(startedEventId: number): Ignored {
    const active = this.snapshot.active;
    if (active?.phase?.$case !== "children" || active.phase.value.startedEventId !== startedEventId)
      return "stale";
    const state = this.state(active.name);
    if (state.Type !== "Parallel" && state.Type !== "Map") return "stale";
    const before = this.t.size;
    try {
      this.launch(state, this.childrenInput(state, active));
    } catch (err) {
      this.failChildren(state, toStatesError(err));
    }
    return this.t.size === before ? "duplicate" : undefined;
  }

  private childrenInput(state: ParallelState | MapState, active: ActiveState): Json {
    const input = parseJson(active.inputJson);
    return state.Type === "Parallel" ? effectiveInput(state, input, this.envFor(active)) : input;
  }

  childCompleted(done: ChildCompleted): Ignored {
    const active = this.snapshot.active;
    const ref = done.parent;
    if (
      !ref ||
      active?.phase?.$case !== "children" ||
      active.phase.value.startedEventId !== ref.entryEventId ||
      active.name !== ref.stateName
    ) {
      return "stale";
    }
    const children = active.phase.value;
    if (ref.index >= children.total || hasBit(children.completed, ref.index)) return "duplicate";
    const state = this.state(active.name);
    if (state.Type !== "Parallel" && state.Type !== "Map") return "stale";
    const succeeded = done.status === ExecutionStatus.EXECUTION_STATUS_SUCCEEDED;
    const index = ref.index;
    if (state.Type === "Parallel") {
      this.t.emit(
        succeeded
          ? { $case: "parallelBranchSucceeded", value: { index, outputJson: done.outputJson } }
          : { $case: "parallelBranchFailed", value: { index, error: done.error, cause: done.cause } },
        active.name,
      );
    } else {
      this.t.emit(
        succeeded
          ? { $case: "mapIterationSucceeded", value: { index, outputJson: done.outputJson } }
          : { $case: "mapIterationFailed", value: { index, error: done.error, cause: done.cause } },
        active.name,
      );
    }
    const now = this.active();
    if (now.phase?.$case !== "children") return undefined;
    const phase = now.phase.value;
    if (!succeeded) {
      const tooMany = state.Type === "Parallel" || phase.failed > phase.toleratedFailures;
      if (tooMany) {
        const toleranceSet =
          state.Type === "Map" &&
          (state.ToleratedFailureCount !== undefined ||
            state.ToleratedFailurePercentage !== undefined ||
            state.ToleratedFailureCountPath !== undefined ||
            state.ToleratedFailurePercentagePath !== undefined);
        const error = toleranceSet
          ? new StatesError(
              "States.ExceedToleratedFailureThreshold",
              `${phase.failed} of ${phase.total} iterations failed, more than the ${phase.toleratedFailures} tolerated`,
            )
          : new StatesError(done.error || "States.BranchFailed", done.cause);
        this.failChildren(state, error);
        return undefined;
      }
    }
    if (phase.succeeded + phase.failed === phase.total) {
      const stored = this.env.childOutputs?.(phase.startedEventId);
      if (!stored) throw new ChildOutputsNeeded(phase.startedEventId);
      // Completions applied earlier in this same transition are not in the stream yet.
      const outputs = new Map(stored);
      for (const event of this.t.emitted) {
        if (event.eventId <= phase.startedEventId) continue;
        const d = event.details;
        if (d?.$case === "mapIterationSucceeded" || d?.$case === "parallelBranchSucceeded") {
          outputs.set(d.value.index, d.value.outputJson);
        }
      }
      const results: Json[] = [];
      for (let i = 0; i < phase.total; i++) {
        const out = outputs.get(i);
        results.push(out === undefined ? null : parseJson(out));
      }
      const next = this.finishChildren(state, now, results);
      if (next) this.enter(next.name, next.input);
      return undefined;
    }
    // A completion frees a slot only under MaxConcurrency; without a cap every child is launched
    // already, or ChildLaunchPending continues the launch. Skipping this keeps a completion from
    // re-reading the whole input (quadratic over a large Map).
    const free =
      phase.maxConcurrency > 0 && phase.launched - phase.succeeded - phase.failed < phase.maxConcurrency;
    if (phase.launched < phase.total && free) {
      try {
        this.launch(state, this.childrenInput(state, now));
      } catch (err) {
        this.failChildren(state, toStatesError(err));
      }
    }
    return undefined;
  }

  private failChildren(state: ParallelState | MapState, error: StatesError): void {
    const active = this.active();
    if (active.phase?.$case === "children") this.cancelChildren(active.name, active.phase.value);
    this.t.emit(
      state.Type === "Parallel"
        ? { $case: "parallelFailed", value: { error: error.error, cause: error.cause } }
        : { $case: "mapFailed", value: { error: error.error, cause: error.cause } },
      active.name,
    );
    this.recoverAndContinue(state, error);
  }

  /** All children done: the state's result is their outputs in index order. */
  private finishChildren(
    state: ParallelState | MapState,
    active: ActiveState,
    results: Json[],
  ): { name: string; input: Json } | undefined {
    this.t.emit(
      state.Type === "Parallel"
        ? { $case: "parallelSucceeded", value: {} }
        : { $case: "mapSucceeded", value: {} },
      active.name,
    );
    let output: Json;
    try {
      output = stateOutput(state, parseJson(active.inputJson), results, this.envFor(active));
    } catch (err) {
      return this.recover(state, toStatesError(err));
    }
    return this.exit(active.name, output);
  }
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

/** Reads a token's execution id, or undefined when the token is not one of ours. */
export function executionOfToken(token: string): string | undefined {
  try {
    return parseTaskToken(token).executionId;
  } catch {
    return undefined;
  }
}
