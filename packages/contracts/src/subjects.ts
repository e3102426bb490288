/**
 * Every NATS subject jetflow uses. No other module spells a subject: services, workers and tests
 * build them with these functions, so a rename happens here and nowhere else.
 *
 * Activity names are encoded into one token by `encodeActivityToken` (`billing.charge-card` →
 * `billing~2Echarge-card`); `activityFromSubject` reads them back. Other tokens passed in
 * (execution ids, service names) must be valid single subject tokens: no dots, spaces or
 * wildcards. `assertSubjectToken` checks that at the boundaries.
 */
import { decodeActivityToken, encodeActivityToken } from "./activity-names";

/** Root of every jetflow subject. */
export const SUBJECT_ROOT = "jetflow";

const TOKEN = /^[A-Za-z0-9_-]+$/;

/** Thrown when a value cannot be used as one token of a NATS subject. */
export class InvalidSubjectTokenError extends Error {
  override readonly name = "InvalidSubjectTokenError";
  constructor(
    readonly what: string,
    readonly value: string,
  ) {
    super(`invalid ${what} "${value}": use only letters, digits, "-" and "_"`);
  }
}

/** True when `value` is usable as a single subject token (letters, digits, `-`, `_`; 1 to 128 characters). */
export function isSubjectToken(value: string): boolean {
  return value.length > 0 && value.length <= 128 && TOKEN.test(value);
}

/** Throws InvalidSubjectTokenError unless `value` is a valid single subject token. */
export function assertSubjectToken(what: string, value: string): string {
  if (!isSubjectToken(value)) throw new InvalidSubjectTokenError(what, value);
  return value;
}

/** Subject builders, grouped by the stream or service that owns them. */
export const subjects = {
  /** Task messages for one activity, in the work-queue stream JETFLOW_TASKS. */
  task: (activity: string) => `${SUBJECT_ROOT}.tasks.${encodeActivityToken(activity)}`,
  /** Filter matching every activity's task subject. */
  allTasks: `${SUBJECT_ROOT}.tasks.>`,

  /** Task results (success or failure) for one activity, in JETFLOW_RESULTS. */
  result: (activity: string) => `${SUBJECT_ROOT}.results.${encodeActivityToken(activity)}`,
  allResults: `${SUBJECT_ROOT}.results.>`,

  /**
   * Heartbeats are core NATS requests (they need a reply: "was this execution stopped?"), answered
   * by the result-ingestor, which records them durably in the heartbeat KV bucket.
   */
  heartbeat: (activity: string) => `${SUBJECT_ROOT}.heartbeats.${encodeActivityToken(activity)}`,
  allHeartbeats: `${SUBJECT_ROOT}.heartbeats.>`,

  /** Core NATS broadcast telling workers of an activity to abort tasks (execution stopped). */
  taskCancel: (activity: string) => `${SUBJECT_ROOT}.cancel.${encodeActivityToken(activity)}`,
  allTaskCancels: `${SUBJECT_ROOT}.cancel.>`,

  /** The history of one execution: one EventBatch per transition, in JETFLOW_EVENTS. */
  events: (executionId: string) => `${SUBJECT_ROOT}.events.${executionId}`,
  allEvents: `${SUBJECT_ROOT}.events.>`,

  /**
   * Presence ping: a core NATS request every worker process answers with a WorkerPresence (plain
   * subscription, no queue group), so that GetEngineStats can count the workers connected.
   */
  workersPing: `${SUBJECT_ROOT}.workers.ping`,

  /** Commands into the orchestrator for one execution, in the work-queue stream JETFLOW_COMMANDS. */
  command: (executionId: string) => `${SUBJECT_ROOT}.commands.${executionId}`,
  allCommands: `${SUBJECT_ROOT}.commands.>`,

  /** Durable timers for one execution, in JETFLOW_TIMERS. */
  timer: (executionId: string) => `${SUBJECT_ROOT}.timers.${executionId}`,
  allTimers: `${SUBJECT_ROOT}.timers.>`,

  /** Request/reply API of the state-manager (core NATS, queue group "state-manager"). */
  stateCommit: `${SUBJECT_ROOT}.state.commit`,
  /** Several commits in one request (CommitBatchRequest), each applied as if sent alone. */
  stateCommitBatch: `${SUBJECT_ROOT}.state.commits`,
  stateLoad: `${SUBJECT_ROOT}.state.load`,

  /** Dead letters: malformed or unprocessable messages parked by `service`, in JETFLOW_DEAD_LETTERS. */
  deadLetter: (service: string) => `${SUBJECT_ROOT}.dlq.${service}`,
  allDeadLetters: `${SUBJECT_ROOT}.dlq.>`,
} as const;

/** The subject kinds whose last token is an encoded activity name. */
const ACTIVITY_SUBJECT = new RegExp(`^${SUBJECT_ROOT}\\.(?:tasks|results|heartbeats|cancel)\\.([^.]+)$`);

/**
 * The activity a task, result, heartbeat or cancellation subject is for, decoded from its last
 * token (`jetflow.tasks.billing~2Echarge-card` → `billing.charge-card`), or `undefined` for any
 * other subject or a token that is not an encoded activity name.
 */
export function activityFromSubject(subject: string): string | undefined {
  const token = ACTIVITY_SUBJECT.exec(subject)?.[1];
  if (token === undefined) return undefined;
  try {
    return decodeActivityToken(token);
  } catch {
    return undefined;
  }
}

/** Queue group names, so that replicas of a service share request/reply work. */
export const queueGroups = {
  stateManager: "state-manager",
  resultIngestor: "result-ingestor",
} as const;
