/**
 * What a parked message is, read from the subject it arrived on: the kinds of the dead-letter
 * API (ListDeadLetters, GetDeadLetter, ReplayDeadLetter), and the header that carries how often
 * the parking service had received it.
 */
import { SUBJECT_ROOT, activityFromSubject } from "./subjects";

/** Header of a dead letter: how many times the parking service had received the message. */
export const DEAD_LETTER_DELIVERIES_HEADER = "Jetflow-Deliveries";

/** The kinds of parked message. */
export type DeadLetterKind =
  "command" | "task" | "result" | "timer" | "event-batch" | "state-request" | "unknown";

/** What a dead letter's original subject says about it. */
export interface DeadLetterSubjectInfo {
  kind: DeadLetterKind;
  /** The execution the subject names (commands, timers, event batches); "" otherwise. */
  executionId: string;
  /** The activity the subject names (tasks, results); "" otherwise. */
  activity: string;
  /**
   * True when publishing the message again on its subject is a replay: the subject's stream is a
   * work queue whose consumer treats a redelivery as nothing new. An event batch is already in the
   * history (the events stream keeps it), and a state request had a caller who is gone.
   */
  replayable: boolean;
}

const PER_EXECUTION = new RegExp(`^${SUBJECT_ROOT}\\.(commands|timers|events)\\.([^.]+)$`);
const PER_ACTIVITY = new RegExp(`^${SUBJECT_ROOT}\\.(tasks|results)\\.[^.]+$`);
const STATE = new RegExp(`^${SUBJECT_ROOT}\\.state\\.`);

/** Classifies a dead letter by the subject its message arrived on. */
export function deadLetterSubjectInfo(subject: string): DeadLetterSubjectInfo {
  const execution = PER_EXECUTION.exec(subject);
  if (execution) {
    const [, what, executionId = ""] = execution;
    const kind: DeadLetterKind =
      what === "commands" ? "command" : what === "timers" ? "timer" : "event-batch";
    return { kind, executionId, activity: "", replayable: kind !== "event-batch" };
  }
  const perActivity = PER_ACTIVITY.exec(subject);
  if (perActivity) {
    const activity = activityFromSubject(subject);
    if (activity !== undefined) {
      return {
        kind: perActivity[1] === "tasks" ? "task" : "result",
        executionId: "",
        activity,
        replayable: true,
      };
    }
  }
  if (STATE.test(subject)) return { kind: "state-request", executionId: "", activity: "", replayable: false };
  return { kind: "unknown", executionId: "", activity: "", replayable: false };
}

/**
 * The `Nats-Msg-Id` of a dead letter's replay: the same for every retry of it, so the server drops
 * a second publish within its duplicate window (two minutes).
 */
export function deadLetterReplayMsgId(sequence: number, parkedTime: Date | undefined): string {
  return `dlq-replay.${sequence}.${parkedTime?.getTime() ?? 0}`;
}
