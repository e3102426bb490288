/**
 * An in-memory engine for tests of the workflow semantics: it plays the dispatcher, the workers
 * and the clock around the real `applyCommand`, with no NATS. Every transition is folded with the
 * real `evolve`, so the histories it produces are the ones the services would write.
 */
import type { Json, StateMachine } from "@jetflow/asl";
import { ExecutionStatus, TimerKind } from "@jetflow/contracts";
import type { Command, ExecutionSnapshot, HistoryEvent, Timer } from "@jetflow/contracts";
import { evolve, timerIds } from "../model";
import { decideTransition } from "../decide/decide";
import type { DecideEnv } from "../decide/env";
import { rootExecutionOf } from "../decide/context";
import type { RootExecution } from "../decide/context";
import { completeChildStart } from "../decide/machine";
import { Transition } from "../decide/transition";

/** What a simulated task handler may do. */
export type SimulatedOutcome =
  | { output: Json }
  | { error: string; cause?: string }
  /** Never answer (to exercise timeouts). */
  | { hang: true };

/** A simulated worker: gets the task's input, attempt and token. */
export type SimulatedHandler = (
  input: Json,
  task: { attempt: number; token: string; state: string },
) => SimulatedOutcome;

interface Stored {
  snapshot: ExecutionSnapshot;
  events: HistoryEvent[];
}

/** Runs executions of one definition to completion in memory. */
export class Simulator {
  readonly executions = new Map<string, Stored>();
  private readonly commands: Command[] = [];
  private readonly timers: Timer[] = [];
  clockMs = Date.UTC(2026, 0, 1);
  private uuidCounter = 0;
  /** Tasks dispatched, in order, for assertions. */
  readonly dispatched: { activity: string; input: Json; attempt: number; token: string }[] = [];
  readonly cancelledTasks: string[] = [];

  constructor(
    private readonly definition: StateMachine,
    private readonly handlers: Record<string, SimulatedHandler>,
    private readonly options: {
      random?: () => number;
      maxChildrenPerTransition?: number;
      /** Keep due timers back until `fireTimers()` (to deliver a command before a timeout). */
      holdTimers?: boolean;
    } = {},
  ) {}

  /** Starts an execution (as the api-gateway does) and runs until nothing is left to do. */
  run(input: Json, executionId = "exec-1", timeoutSeconds = 0): Stored {
    const t = new Transition(executionId, undefined, new Date(this.clockMs));
    t.emit({
      $case: "executionStarted",
      value: {
        workflowName: "wf",
        workflowVersion: 1,
        inputJson: JSON.stringify(input),
        executionName: "",
        machinePath: "",
        parent: undefined,
        rootExecutionId: executionId,
        timeoutSeconds,
        timeoutTimerId: timeoutSeconds > 0 ? timerIds.executionTimeout(executionId) : "",
      },
    });
    this.store(executionId, t);
    this.settle();
    return this.get(executionId);
  }

  /** Sends a command from outside (a stop, a late result) and runs until idle. */
  send(command: Command): void {
    this.commands.push(command);
    this.settle();
  }

  get(executionId: string): Stored {
    const stored = this.executions.get(executionId);
    if (!stored) throw new Error(`no execution ${executionId}`);
    return stored;
  }

  /** Fires the held timers (see `holdTimers`) and runs until nothing is left to do. */
  fireTimers(): void {
    this.settle(200_000, true);
  }

  /** Processes commands; when none are left, advances the clock to the next timer. */
  settle(maxSteps = 200_000, fireTimers = !this.options.holdTimers): void {
    for (let step = 0; step < maxSteps; step++) {
      const command = this.commands.shift();
      if (command) {
        this.apply(command);
        continue;
      }
      if (!fireTimers) return;
      this.timers.sort((a, b) => (a.fireTime?.getTime() ?? 0) - (b.fireTime?.getTime() ?? 0));
      const timer = this.timers.shift();
      if (!timer) return;
      this.clockMs = Math.max(this.clockMs, timer.fireTime?.getTime() ?? 0);
      this.commands.push({ executionId: timer.executionId, kind: { $case: "timerFired", value: { timer } } });
    }
    throw new Error("simulation did not settle");
  }

  private env(executionId: string): DecideEnv {
    return {
      root: this.rootOf(executionId),
      now: new Date(this.clockMs),
      definition: this.definition,
      random: this.options.random ?? (() => 0.5),
      uuid: () => `00000000-0000-4000-8000-${String(++this.uuidCounter).padStart(12, "0")}`,
      maxChildrenPerTransition: this.options.maxChildrenPerTransition,
    };
  }

  /** What the orchestrator's history reader answers: a round's outputs from the stored events. */
  private outputsOf(executionId: string, startedEventId: number): Map<number, string> {
    const outputs = new Map<number, string>();
    for (const event of this.executions.get(executionId)?.events ?? []) {
      if (event.eventId <= startedEventId) continue;
      const d = event.details;
      if (d?.$case === "mapIterationSucceeded" || d?.$case === "parallelBranchSucceeded") {
        outputs.set(d.value.index, d.value.outputJson);
      }
    }
    return outputs;
  }

  private apply(command: Command): void {
    const kind = command.kind;
    if (kind?.$case === "begin" && kind.value.child?.parent && !this.executions.has(command.executionId)) {
      const parent = this.executions.get(kind.value.child.parent.executionId)?.snapshot;
      const child = completeChildStart(kind.value.child, parent, this.definition);
      command = { executionId: command.executionId, kind: { $case: "begin", value: { child } } };
    }
    this.commit(command);
  }

  /** `$$.Execution`'s source for a decision of `executionId`, as the orchestrator provides it. */
  private rootOf(executionId: string): RootExecution | undefined {
    const own = this.executions.get(executionId)?.snapshot;
    const rootId = own?.rootExecutionId || this.rootOfPending(executionId);
    const root = rootId ? this.executions.get(rootId)?.snapshot : undefined;
    return root ? rootExecutionOf(root) : undefined;
  }

  /** A child about to begin has no snapshot yet: its root is its parent's root. */
  private rootOfPending(childId: string): string | undefined {
    for (const [id, stored] of this.executions) {
      if (childId.startsWith(`${id}_`)) return stored.snapshot.rootExecutionId || id;
    }
    return undefined;
  }

  /** Decides as the orchestrator does (a need is read and the decision taken again), then commits. */
  private commit(command: Command): void {
    const executionId = command.executionId;
    const stored = this.executions.get(executionId);
    const outputs = new Map<number, Map<number, string>>();
    const env: DecideEnv = {
      ...this.env(executionId),
      childOutputs: (startedEventId) => outputs.get(startedEventId),
    };
    for (;;) {
      const decision = decideTransition(executionId, stored?.snapshot, [command], env);
      if (decision.kind === "failed") throw decision.error;
      if (decision.kind === "needs") {
        const { startedEventId } = decision.need;
        if (outputs.has(startedEventId)) throw new Error(`need of round ${startedEventId} asked twice`);
        outputs.set(startedEventId, this.outputsOf(executionId, startedEventId));
        continue;
      }
      this.store(executionId, decision.transition);
      return;
    }
  }

  private store(executionId: string, t: Transition): void {
    const stored = this.executions.get(executionId);
    const batch = t.toBatch(t.snapshot?.parent);
    if (!batch) return;
    // Fold the batch as the state-manager would, from the stored snapshot.
    const snapshot = evolve(stored?.snapshot, batch, (stored?.snapshot.lastEventSeq ?? 0) + 1);
    const events = [...(stored?.events ?? []), ...batch.events];
    this.executions.set(executionId, { snapshot, events });
    for (const event of batch.events) this.effects(snapshot, event);
  }

  /** The dispatcher's and the workers' part. */
  private effects(snapshot: ExecutionSnapshot, event: HistoryEvent): void {
    const id = snapshot.executionId;
    const d = event.details;
    const at = event.timestamp?.getTime() ?? this.clockMs;
    switch (d?.$case) {
      case "executionStarted":
        if (!d.value.parent)
          this.commands.push({ executionId: id, kind: { $case: "begin", value: { child: undefined } } });
        if (d.value.timeoutSeconds > 0) {
          this.timers.push(
            timer(
              id,
              d.value.timeoutTimerId,
              at + d.value.timeoutSeconds * 1000,
              TimerKind.TIMER_KIND_EXECUTION_TIMEOUT,
            ),
          );
        }
        break;
      case "taskScheduled": {
        const task = d.value;
        const input = JSON.parse(task.inputJson) as Json;
        this.dispatched.push({
          activity: task.activity,
          input,
          attempt: task.attempt,
          token: task.taskToken,
        });
        if (task.timeoutSeconds > 0) {
          this.timers.push({
            ...timer(
              id,
              timerIds.taskTimeout(task.taskToken),
              at + task.timeoutSeconds * 1000,
              TimerKind.TIMER_KIND_TASK_TIMEOUT,
            ),
            taskToken: task.taskToken,
          });
        }
        const handler = this.handlers[task.activity];
        const outcome: SimulatedOutcome = handler
          ? handler(input, { attempt: task.attempt, token: task.taskToken, state: task.stateName })
          : { error: "NoHandler", cause: task.activity };
        if ("hang" in outcome) break;
        this.commands.push({
          executionId: id,
          kind: {
            $case: "taskOutcome",
            value: {
              taskToken: task.taskToken,
              outcome:
                "output" in outcome
                  ? { $case: "outputJson", value: JSON.stringify(outcome.output) }
                  : { $case: "failure", value: { error: outcome.error, cause: outcome.cause ?? "" } },
              workerId: "sim",
              completedTime: new Date(this.clockMs),
              receivedTime: new Date(this.clockMs),
            },
          },
        });
        break;
      }
      case "waitStarted":
        this.timers.push(
          timer(id, d.value.timerId, d.value.fireTime?.getTime() ?? at, TimerKind.TIMER_KIND_WAIT),
        );
        break;
      case "taskRetryScheduled":
        this.timers.push(
          timer(id, d.value.timerId, d.value.fireTime?.getTime() ?? at, TimerKind.TIMER_KIND_RETRY),
        );
        break;
      case "mapIterationStarted":
      case "parallelBranchStarted":
        this.commands.push({
          executionId: d.value.childExecutionId,
          kind: {
            $case: "begin",
            value: {
              child: {
                parent: {
                  executionId: id,
                  stateName: event.stateName,
                  index: d.value.index,
                  entryEventId: Number(d.value.childExecutionId.split("_").at(-2)),
                },
                workflowName: "",
                workflowVersion: 0,
                machinePath: "",
                inputJson: d.value.inputJson,
                rootExecutionId: "",
              },
            },
          },
        });
        break;
      case "childLaunchPending":
        this.commands.push({
          executionId: id,
          kind: { $case: "continueChildren", value: { entryEventId: d.value.entryEventId } },
        });
        break;
      case "childrenCancelled":
        for (const index of d.value.indices) {
          this.commands.push({
            executionId: `${d.value.idPrefix}${index}`,
            kind: { $case: "stop", value: { error: "States.Aborted", cause: "parent state ended" } },
          });
        }
        break;
      case "taskCancelled":
        this.cancelledTasks.push(d.value.taskToken);
        break;
      case "executionSucceeded":
      case "executionFailed":
      case "executionTimedOut":
      case "executionAborted": {
        const parent = snapshot.parent;
        if (!parent) break;
        this.commands.push({
          executionId: parent.executionId,
          kind: {
            $case: "childCompleted",
            value: {
              parent,
              childExecutionId: id,
              status: snapshot.status,
              outputJson: d.$case === "executionSucceeded" ? d.value.outputJson : "",
              error: d.$case === "executionSucceeded" ? "" : d.value.error,
              cause: d.$case === "executionSucceeded" ? "" : d.value.cause,
            },
          },
        });
        break;
      }
      default:
        break;
    }
  }
}

function timer(executionId: string, timerId: string, fireMs: number, kind: TimerKind): Timer {
  return {
    timerId,
    executionId,
    fireTime: new Date(fireMs),
    kind,
    taskToken: "",
    heartbeatSeconds: 0,
    armedBatchSeq: 0,
  };
}

/** Status names for readable assertions. */
export function statusName(status: ExecutionStatus): string {
  return ExecutionStatus[status]?.replace("EXECUTION_STATUS_", "") ?? String(status);
}
