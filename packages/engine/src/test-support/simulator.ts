/**
 * An in-memory engine for tests of the workflow semantics, with no NATS: the real cores composed
 * in one process. The gateway's start is `startBatch`; the orchestrator's decision is
 * `decideTransition` (its needs read from the stored history); the state-manager's fold is
 * `evolve`; the dispatcher's effects are `planEffects` and its timers `timerFiredEffect`, with
 * stale timers dropped as it drops them. Only the workers (handlers answering at once) and the
 * clock (advanced to the next timer) are simulated.
 */
import type { Json, StateMachine } from "@jetflow/asl";
import { Command, ExecutionStatus, Task, TaskCancellation, Timer, subjects } from "@jetflow/contracts";
import type { EventBatch, ExecutionSnapshot, HistoryEvent } from "@jetflow/contracts";
import { evolve } from "../model";
import { planEffects } from "../effects/effects";
import type { Effect } from "../effects/effects";
import { canGoStale, isStale, timerFiredEffect } from "../effects/timers";
import { startBatch } from "../start/start-batch";
import { decideTransition } from "../decide/decide";
import type { DecideEnv } from "../decide/env";
import { rootExecutionOf } from "../decide/context";
import type { RootExecution } from "../decide/context";
import { completeChildStart } from "../decide/machine";
import type { Transition } from "../decide/transition";
import { deepFreeze } from "./deep-freeze";

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
  /** Msg ids published so far: JetStream drops a second publish with the same id. */
  private readonly published = new Set<string>();

  constructor(
    private readonly definition: StateMachine,
    private readonly handlers: Record<string, SimulatedHandler>,
    private readonly options: {
      random?: () => number;
      maxChildrenPerTransition?: number;
      /** Keep due timers back until `fireTimers()` (to deliver a command before a timeout). */
      holdTimers?: boolean;
      /** Keep Map rounds' items between transitions, as the orchestrator does (`roundItems`). */
      rememberRoundItems?: boolean;
    } = {},
  ) {}

  /** Map rounds' items kept by `rememberRoundItems`, and how often they were evaluated. */
  private readonly keptRoundItems = new Map<string, readonly Json[]>();
  roundItemsEvaluated = 0;

  /** Starts an execution (as the api-gateway does) and runs until nothing is left to do. */
  run(input: Json, executionId = "exec-1", timeoutSeconds = 0): Stored {
    // The api-gateway's start, through the same core function.
    const { batch } = startBatch({
      executionId,
      workflowName: "wf",
      workflowVersion: 1,
      inputJson: JSON.stringify(input),
      executionName: "",
      timeoutSeconds,
      startTime: new Date(this.clockMs),
    });
    this.storeBatch(executionId, batch);
    this.settle();
    return this.get(executionId);
  }

  /** Sends a command from outside (a stop, a late result) and runs until idle. */
  send(command: Command): void {
    this.commands.push(command);
    this.settle();
  }

  /** Redrives an ended execution as the api-gateway asks for it (RedriveExecution), then runs until idle. */
  redrive(executionId = "exec-1"): void {
    const { snapshot } = this.get(executionId);
    this.send({
      executionId,
      kind: { $case: "redrive", value: { expectedRedriveCount: snapshot.redriveCount, identity: undefined } },
    });
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
      // The dispatcher drops a timer of a state its execution has left (a later batch exists).
      const lastSeq = this.executions.get(timer.executionId)?.snapshot.lastEventSeq ?? 0;
      if (canGoStale(timer) && isStale(timer, lastSeq > timer.armedBatchSeq)) continue;
      this.perform(timerFiredEffect(timer));
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
      ...(this.options.rememberRoundItems
        ? {
            roundItems: (key: string, compute: () => Json[]) => {
              let items = this.keptRoundItems.get(key);
              if (items === undefined) {
                this.roundItemsEvaluated++;
                this.keptRoundItems.set(key, (items = compute()));
              }
              return items;
            },
          }
        : {}),
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
    const batch = t.toBatch(t.snapshot?.parent);
    if (batch) this.storeBatch(executionId, batch);
  }

  /** Appends a batch as the state-manager would, then performs its effects as the dispatcher would. */
  private storeBatch(executionId: string, batch: EventBatch): void {
    const stored = this.executions.get(executionId);
    const batchSeq = (stored?.snapshot.lastEventSeq ?? 0) + 1;
    const snapshot = evolve(stored?.snapshot, batch, batchSeq);
    const events = [...(stored?.events ?? []), ...batch.events];
    // Frozen: every later decision and fold must leave a stored snapshot as it is (copyForFold
    // shares what it does not copy), and a change in place then throws in the test that made it.
    this.executions.set(executionId, { snapshot: deepFreeze(snapshot), events });
    for (const effect of planEffects(batch, subjects.events(executionId), batchSeq)) this.perform(effect);
  }

  /**
   * Delivers one of the dispatcher's effects: a Task to its simulated worker, a Timer to the
   * clock, a Command to the queue. JetStream's de-duplication by msg id is kept.
   */
  private perform(effect: Effect): void {
    if (effect.kind === "core") {
      if (effect.label === "task-cancellation") {
        this.cancelledTasks.push(...TaskCancellation.decode(effect.bytes).taskTokens);
      }
      return;
    }
    if (this.published.has(effect.msgId)) return;
    this.published.add(effect.msgId);
    switch (effect.label) {
      case "command":
        this.commands.push(Command.decode(effect.bytes));
        break;
      case "timer":
        this.timers.push(Timer.decode(effect.bytes));
        break;
      case "task":
        this.work(Task.decode(effect.bytes));
        break;
      case "task-cancellation":
        break;
    }
  }

  /** The worker's part: runs the handler at once and sends its outcome as the result-ingestor would. */
  private work(task: Task): void {
    const input = JSON.parse(task.inputJson) as Json;
    this.dispatched.push({ activity: task.activity, input, attempt: task.attempt, token: task.taskToken });
    const handler = this.handlers[task.activity];
    const outcome: SimulatedOutcome = handler
      ? handler(input, { attempt: task.attempt, token: task.taskToken, state: task.stateName })
      : { error: "NoHandler", cause: task.activity };
    if ("hang" in outcome) return;
    this.commands.push({
      executionId: task.executionId,
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
  }
}

/** Status names for readable assertions. */
export function statusName(status: ExecutionStatus): string {
  return ExecutionStatus[status]?.replace("EXECUTION_STATUS_", "") ?? String(status);
}
