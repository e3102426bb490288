import { Counter, Histogram, exposeStats } from "@jetflow/service-runtime";
import type { Registry } from "@jetflow/service-runtime";
import type { EventBatch, ExecutionSnapshot, HistoryEvent } from "@jetflow/contracts";

/** Buckets of task latencies, in seconds: from a few milliseconds to an hour. */
export const TASK_LATENCY_BUCKETS_S = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600,
];

/** The orchestrator's own counters (`createOrchestrator(...).counters`). */
export interface OrchestratorCounters {
  transitions: number;
  commands: number;
  ignored: number;
  conflicts: number;
  deadLetters: number;
  behind: number;
  /** Task results taken from the results stream, redeliveries included. */
  results: number;
  /** Heartbeats that workers sent on the results stream, recorded. */
  heartbeats: number;
}

/** What an execution's terminal event says, as the `status` label. */
const TERMINAL_STATUS = {
  executionSucceeded: "SUCCEEDED",
  executionFailed: "FAILED",
  executionTimedOut: "TIMED_OUT",
  executionAborted: "ABORTED",
} as const;

/** What a task's last event says, as the `outcome` label. */
const TASK_OUTCOME = {
  taskSucceeded: "succeeded",
  taskFailed: "failed",
  taskTimedOut: "timed_out",
  taskCancelled: "cancelled",
} as const;

/**
 * The `kind` label of the execution metrics: `root` for an execution started through the API,
 * `child` for a Map iteration or a Parallel branch (run as a child execution of its own).
 */
export type ExecutionKind = "root" | "child";

/** The {@link ExecutionKind} of an execution, from its snapshot. */
export function executionKindOf(snapshot: Pick<ExecutionSnapshot, "parent">): ExecutionKind {
  return snapshot.parent ? "child" : "root";
}

/** Records what each committed transition did. */
export type TransitionRecorder = (
  before: ExecutionSnapshot | undefined,
  batch: EventBatch,
  after: ExecutionSnapshot,
) => void;

/**
 * Registers the orchestrator's metrics and returns what records a committed transition.
 *
 * Counting point: the orchestrator counts a transition once the state-manager answered its append
 * `ok` and not duplicate, so a transition is counted once in effect. A process that dies between
 * the append and the count loses that count (the redelivered command then finds its work done);
 * nothing is counted twice. Executions are counted with `kind` root or child (a Map iteration or
 * a Parallel branch): the starts of root executions by the api-gateway, which appends their
 * `ExecutionStarted`, the starts of children here, where theirs is appended.
 */
export function instrumentOrchestrator(
  registry: Registry,
  counters: () => OrchestratorCounters,
): TransitionRecorder {
  exposeStats(registry, counters, [
    {
      name: "jetflow_orchestrator_commands_total",
      help: "Commands received (timers, starts, children, stops), redeliveries included",
      read: (c) => c.commands,
    },
    {
      name: "jetflow_orchestrator_transitions_total",
      help: "Transitions committed, duplicates included",
      read: (c) => c.transitions,
    },
    {
      name: "jetflow_orchestrator_commands_ignored_total",
      help: "Commands that changed nothing (stale, duplicate, for an ended or unknown execution)",
      read: (c) => c.ignored,
    },
    {
      name: "jetflow_orchestrator_commit_conflicts_total",
      help: "Commits refused because another writer moved the execution on (reloaded and decided again)",
      read: (c) => c.conflicts,
    },
    {
      name: "jetflow_orchestrator_commands_behind_total",
      help: "Commands judged on a snapshot behind the stream and handed back for a retry",
      read: (c) => c.behind,
    },
    {
      name: "jetflow_results_received_total",
      help: "Task results taken from the results stream (outcomes, heartbeats, unreadable ones), redeliveries included",
      read: (c) => c.results,
    },
    {
      name: "jetflow_heartbeats_recorded_total",
      help: "Task heartbeats recorded (here: those workers sent on the results stream)",
      read: (c) => c.heartbeats,
    },
    {
      name: "jetflow_dead_letters_parked_total",
      help: "Messages this process parked on the dead-letter stream",
      read: (c) => c.deadLetters,
    },
  ]);
  const executionsStarted = new Counter({
    name: "jetflow_executions_started_total",
    help: "Executions started, by workflow and kind (root: started through the API, counted by the api-gateway; child: a Map iteration or Parallel branch, counted here)",
    labelNames: ["workflow", "kind"],
    registers: [registry],
  });
  const executionsEnded = new Counter({
    name: "jetflow_executions_ended_total",
    help: "Executions that ended, by workflow, final status and kind (root, or child: a Map iteration or Parallel branch)",
    labelNames: ["workflow", "status", "kind"],
    registers: [registry],
  });
  const transitions = new Counter({
    name: "jetflow_state_transitions_total",
    help: "Transitions appended to executions' histories (each a batch of events), by workflow",
    labelNames: ["workflow"],
    registers: [registry],
  });
  const statesEntered = new Counter({
    name: "jetflow_states_entered_total",
    help: "States entered, by workflow and state type",
    labelNames: ["workflow", "state_type"],
    registers: [registry],
  });
  const tasksScheduled = new Counter({
    name: "jetflow_tasks_scheduled_total",
    help: "Task attempts scheduled, by activity",
    labelNames: ["activity"],
    registers: [registry],
  });
  const tasksStarted = new Counter({
    name: "jetflow_tasks_started_total",
    help: "Task attempts recorded as started (recorded when their result arrives), by activity",
    labelNames: ["activity"],
    registers: [registry],
  });
  const tasksEnded = new Counter({
    name: "jetflow_tasks_ended_total",
    help: "Task attempts that ended, by activity and outcome (succeeded, failed, timed_out, cancelled)",
    labelNames: ["activity", "outcome"],
    registers: [registry],
  });
  const scheduleToClose = new Histogram({
    name: "jetflow_task_schedule_to_close_seconds",
    help: "Time from a task attempt's scheduling to its recorded end, by activity and outcome",
    labelNames: ["activity", "outcome"],
    buckets: TASK_LATENCY_BUCKETS_S,
    registers: [registry],
  });

  return (before, batch, after) => {
    const workflow = after.workflowName;
    transitions.inc({ workflow });
    for (const event of batch.events) {
      const details = event.details;
      if (!details) continue;
      switch (details.$case) {
        case "executionStarted":
          // A root execution's start is appended (and counted) by the api-gateway.
          if (after.parent) executionsStarted.inc({ workflow, kind: "child" });
          break;
        case "executionSucceeded":
        case "executionFailed":
        case "executionTimedOut":
        case "executionAborted":
          executionsEnded.inc({
            workflow,
            status: TERMINAL_STATUS[details.$case],
            kind: executionKindOf(after),
          });
          break;
        case "stateEntered":
          statesEntered.inc({ workflow, state_type: details.value.stateType });
          break;
        case "taskScheduled":
          tasksScheduled.inc({ activity: details.value.activity });
          break;
        case "taskStarted":
          tasksStarted.inc({ activity: activeTask(before, details.value.taskToken)?.activity ?? "" });
          break;
        case "taskSucceeded":
        case "taskFailed":
        case "taskTimedOut":
        case "taskCancelled": {
          const task = activeTask(before, details.value.taskToken);
          const activity =
            details.$case === "taskCancelled" ? details.value.activity : (task?.activity ?? "");
          const outcome = TASK_OUTCOME[details.$case];
          tasksEnded.inc({ activity, outcome });
          const seconds = secondsBetween(task?.scheduledTime, event);
          if (seconds !== undefined) scheduleToClose.observe({ activity, outcome }, seconds);
          break;
        }
        default:
          break;
      }
    }
  };
}

/** The task phase of the snapshot's active state when it is the attempt `token`. */
function activeTask(
  snapshot: ExecutionSnapshot | undefined,
  token: string,
): { activity: string; scheduledTime?: Date } | undefined {
  const phase = snapshot?.active?.phase;
  return phase?.$case === "task" && phase.value.taskToken === token ? phase.value : undefined;
}

function secondsBetween(start: Date | undefined, event: HistoryEvent): number | undefined {
  if (!start || !event.timestamp) return undefined;
  return Math.max(0, (event.timestamp.getTime() - start.getTime()) / 1000);
}
