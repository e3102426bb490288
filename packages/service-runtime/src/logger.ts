import pino from "pino";
import type { Logger } from "pino";
import { parseTraceParent } from "@jetflow/contracts/internal";
import type { ExecutionSnapshot } from "@jetflow/contracts";

/**
 * The one root logger of a service process: JSON lines on stdout, `service` on every line, and the
 * fields that may carry user data or secrets redacted.
 */
export function createLogger(service: string, level: string): Logger {
  return pino({
    level,
    base: { service },
    redact: ["input", "output", "inputJson", "outputJson", "password", "*.password", "token"],
  });
}

export type { Logger };

/** What a log line about one execution can name; absent or empty fields are left out. */
export interface ExecutionLogContext {
  executionId?: string | undefined;
  /** The workflow's name, logged as `workflow`. */
  workflowName?: string | undefined;
  /** The state the execution is in (or that a task belongs to), logged as `state`. */
  stateName?: string | undefined;
  /** A W3C `traceparent`; its trace id is logged as `traceId`. */
  traceParent?: string | undefined;
}

/** The fields every log line about an execution carries: see {@link executionLogFields}. */
export interface ExecutionLogFields {
  executionId?: string;
  workflow?: string;
  state?: string;
  traceId?: string;
}

/**
 * The fields a service binds to its child logger for one execution (`log.child(fields)`), the same
 * names in every service so that one query finds an execution's lines everywhere: `executionId`,
 * `workflow`, `state` and `traceId` (from the traceparent), each only when known.
 */
export function executionLogFields(context: ExecutionLogContext): ExecutionLogFields {
  const fields: ExecutionLogFields = {};
  if (context.executionId) fields.executionId = context.executionId;
  if (context.workflowName) fields.workflow = context.workflowName;
  if (context.stateName !== undefined) fields.state = context.stateName;
  const traceId = parseTraceParent(context.traceParent)?.traceId;
  if (traceId !== undefined) fields.traceId = traceId;
  return fields;
}

/**
 * {@link executionLogFields} of a snapshot: its execution, workflow, active state (`""` when it
 * has none, between states or ended) and trace.
 */
export function snapshotLogFields(
  snapshot: Pick<ExecutionSnapshot, "executionId" | "workflowName" | "active" | "traceParent">,
): ExecutionLogFields {
  return executionLogFields({
    executionId: snapshot.executionId,
    workflowName: snapshot.workflowName,
    stateName: snapshot.active?.name ?? "",
    traceParent: snapshot.traceParent,
  });
}

/**
 * A child of `log` with the fields `bindings()` returns, made on the first call and reused after:
 * for per-message lines on a hot path, where most messages log nothing and should not pay for a
 * child logger.
 */
export function lazyChild(log: Logger, bindings: () => Record<string, unknown>): () => Logger {
  let child: Logger | undefined;
  return () => (child ??= log.child(bindings()));
}

/**
 * The log of one execution on a hot path: the child logger (`log.child`, which serialises its
 * bindings) is made only when a line is written, naming the execution and, once {@link name}
 * was given a snapshot, its workflow, state and trace. A transition that logs nothing, the usual
 * case, makes no child at all.
 */
export class ExecutionLog {
  private child: Logger | undefined;
  /** What {@link name} took from a snapshot; turned into log fields only for a line. */
  private named: ExecutionLogContext | undefined;

  constructor(
    private readonly parent: Logger,
    private readonly executionId: string,
  ) {}

  /** Names the workflow, state and trace of the first snapshot given; later ones change nothing. */
  name(snapshot: Pick<ExecutionSnapshot, "workflowName" | "active" | "traceParent">): void {
    if (this.named) return;
    this.named = {
      workflowName: snapshot.workflowName,
      stateName: snapshot.active?.name ?? "",
      traceParent: snapshot.traceParent,
    };
    // A line was written before the snapshot was known: the child names them from now on.
    if (this.child) this.child.setBindings(executionLogFields(this.named));
  }

  /** The logger to write with (made on first use). */
  get log(): Logger {
    return (this.child ??= this.parent.child(
      executionLogFields({ ...this.named, executionId: this.executionId }),
    ));
  }

  /** Writes a debug line, without making the child when debug lines are off. */
  debug(obj: Record<string, unknown>, msg: string): void {
    if (this.parent.isLevelEnabled("debug")) this.log.debug(obj, msg);
  }
}
