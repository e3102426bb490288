/**
 * Retention: how long a finished execution is kept, per workflow and by default, and which index
 * entries have expired. Pure: the purger (purger.ts) reads the index and deletes.
 */
import { ExecutionStatus } from "@jetflow/contracts";
import type { ExecutionSummary } from "@jetflow/contracts";

/** How long finished executions are kept, in ms; 0 keeps them forever. */
export interface RetentionPolicy {
  defaultMs: number;
  /** Per workflow name, overriding the default. */
  byWorkflow: ReadonlyMap<string, number>;
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const DURATION = /^(\d+)(ms|s|m|h|d)?$/;

/** A duration such as `30d`, `12h`, `15m`, `10s`, `500ms` or `0`, in ms; undefined when malformed. */
export function parseDuration(text: string): number | undefined {
  const match = DURATION.exec(text.trim());
  if (match === null) return undefined;
  const value = Number(match[1]);
  if (match[2] === undefined) return value === 0 ? 0 : undefined;
  return value * (UNITS[match[2]] as number);
}

/**
 * Reads RETENTION_DEFAULT (a duration, `0` for forever) and RETENTION_WORKFLOWS
 * (`name=duration,name=duration`), pushing a message per problem onto `problems`.
 */
export function parseRetention(
  defaultText: string,
  workflowsText: string,
  problems: string[],
): RetentionPolicy {
  const defaultMs = parseDuration(defaultText);
  if (defaultMs === undefined) {
    problems.push(
      `RETENTION_DEFAULT must be a duration such as 30d, 12h or 0 (forever), got "${defaultText}"`,
    );
  }
  const byWorkflow = new Map<string, number>();
  for (const part of workflowsText.split(",").map((p) => p.trim())) {
    if (part === "") continue;
    const at = part.lastIndexOf("=");
    const name = part.slice(0, Math.max(at, 0)).trim();
    const ms = at < 0 ? undefined : parseDuration(part.slice(at + 1));
    if (name === "" || ms === undefined) {
      problems.push(`RETENTION_WORKFLOWS must be name=duration pairs separated by commas, got "${part}"`);
      continue;
    }
    byWorkflow.set(name, ms);
  }
  return { defaultMs: defaultMs ?? 0, byWorkflow };
}

/** The retention of a workflow's executions, in ms (0: forever). */
export function retentionOf(policy: RetentionPolicy, workflowName: string): number {
  return policy.byWorkflow.get(workflowName) ?? policy.defaultMs;
}

/** True when nothing is ever purged under `policy`. */
export function keepsEverything(policy: RetentionPolicy): boolean {
  return policy.defaultMs === 0 && [...policy.byWorkflow.values()].every((ms) => ms === 0);
}

/** True when the execution has ended and its retention has passed at `nowMs`. Running ones never expire. */
export function isExpired(summary: ExecutionSummary, policy: RetentionPolicy, nowMs: number): boolean {
  if (summary.status === ExecutionStatus.EXECUTION_STATUS_RUNNING) return false;
  if (summary.status === ExecutionStatus.EXECUTION_STATUS_UNSPECIFIED) return false;
  const stopMs = summary.stopTime?.getTime();
  if (stopMs === undefined) return false;
  const keepMs = retentionOf(policy, summary.workflowName);
  return keepMs > 0 && stopMs + keepMs <= nowMs;
}
