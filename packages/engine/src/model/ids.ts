/**
 * The formats of the engine's identifiers. Each id carries what its receiver needs to route it
 * without a lookup: a task token names its execution and the event that scheduled the attempt.
 * Execution ids are single NATS subject tokens (letters, digits, `-`, `_`), so `.` separates
 * the parts of derived ids unambiguously.
 */
import { createHash, randomUUID } from "node:crypto";

/** Thrown when a token or id does not have the engine's format. */
export class MalformedIdError extends Error {
  override readonly name = "MalformedIdError";
  constructor(
    readonly what: string,
    readonly value: string,
  ) {
    super(`malformed ${what} "${value.slice(0, 200)}"`);
  }
}

const EXECUTION_ID = /^[A-Za-z0-9_-]{1,128}$/;

/** True when `id` can be an execution id (a single subject token of at most 128 characters). */
export function isExecutionId(id: string): boolean {
  return EXECUTION_ID.test(id);
}

/** A fresh execution id for an unnamed start. */
export function newExecutionId(): string {
  return randomUUID();
}

/**
 * The execution id of a named start: the same workflow and name always give the same id, which
 * is what makes a named start idempotent.
 */
export function namedExecutionId(workflowName: string, executionName: string): string {
  const digest = createHash("sha256").update(workflowName).update("\0").update(executionName).digest("hex");
  return `n-${digest.slice(0, 40)}`;
}

/** The id of a Parallel branch or Map iteration run as a child execution. */
export function childExecutionId(parentId: string, entryEventId: number, index: number): string {
  return `${childIdPrefix(parentId, entryEventId)}${index}`;
}

/**
 * The top-level execution a (possibly child) execution belongs to. A child id is its parent's id
 * followed by `_<entryEventId>_<index>` (see {@link childExecutionId}), so stripping those
 * suffixes, at any depth, leaves the top-level id (a UUID or `n-<hex>`, which never end so).
 */
export function rootExecutionIdOf(executionId: string): string {
  let id = executionId;
  for (let parent = stripChildSuffix(id); parent !== id; parent = stripChildSuffix(id)) id = parent;
  return id;
}

function stripChildSuffix(id: string): string {
  return id.replace(/_[1-9]\d*_\d+$/, "");
}

/** The common prefix of the children of one entry of a Parallel/Map state. */
export function childIdPrefix(parentId: string, entryEventId: number): string {
  return `${parentId}_${entryEventId}_`;
}

/** The token of a task attempt: `<executionId>.<eventId of TaskScheduled>`. */
export function taskToken(executionId: string, scheduledEventId: number): string {
  return `${executionId}.${scheduledEventId}`;
}

/**
 * Splits a task token into its execution id and scheduling event id.
 * @throws MalformedIdError when the token is not one the engine issued
 */
export function parseTaskToken(token: string): { executionId: string; scheduledEventId: number } {
  const dot = token.lastIndexOf(".");
  const executionId = token.slice(0, dot);
  const eventPart = token.slice(dot + 1);
  const scheduledEventId = Number(eventPart);
  if (dot <= 0 || !isExecutionId(executionId) || !/^[1-9]\d{0,15}$/.test(eventPart)) {
    throw new MalformedIdError("task token", token);
  }
  return { executionId, scheduledEventId };
}

/** Timer ids: unique per purpose and per event that armed the timer. */
export const timerIds = {
  wait: (executionId: string, eventId: number) => `${executionId}.${eventId}.wait`,
  retry: (executionId: string, eventId: number) => `${executionId}.${eventId}.retry`,
  taskTimeout: (token: string) => `${token}.timeout`,
  heartbeatTimeout: (token: string) => `${token}.heartbeat`,
  executionTimeout: (executionId: string) => `${executionId}.execution-timeout`,
  /** The execution timeout restarted by redrive number `redriveCount`. */
  redrivenExecutionTimeout: (executionId: string, redriveCount: number) =>
    `${executionId}.execution-timeout.r${redriveCount}`,
} as const;

/** Nats-Msg-Id values of commands, so a re-sent command is dropped by the server. */
export const commandMsgIds = {
  /** A child's Begin sent by a redriven parent (redrive count > 0) is a new message. */
  begin: (executionId: string, redriveCount = 0) =>
    redriveCount > 0 ? `b.${executionId}.r${redriveCount}` : `b.${executionId}`,
  taskOutcome: (token: string) => `r.${token}`,
  timerFired: (timerId: string) => `t.${timerId}`,
  /** `terminalEventId` tells apart the completions of a child that was redriven. */
  childCompleted: (childId: string, terminalEventId: number) => `c.${childId}.${terminalEventId}`,
  continueChildren: (parentId: string, entryEventId: number, nextIndex: number) =>
    `n.${parentId}.${entryEventId}.${nextIndex}`,
  /** `attempt` tells apart stops of a redriven execution (its redrive count, or the parent's event). */
  stop: (executionId: string, attempt = 0) =>
    attempt > 0 ? `s.${executionId}.${attempt}` : `s.${executionId}`,
  redrive: (executionId: string, expectedRedriveCount: number) => `d.${executionId}.${expectedRedriveCount}`,
} as const;

/** Nats-Msg-Id of an EventBatch: the execution and its first event id. */
export function eventBatchMsgId(executionId: string, firstEventId: number): string {
  return `${executionId}.${firstEventId}`;
}
