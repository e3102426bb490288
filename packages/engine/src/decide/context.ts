/** Builds the ASL evaluation environment (`$$` context object, randomness) for one state. */
import type { ContextObject, EvaluationEnv, Json } from "@jetflow/asl";
import type { ExecutionSnapshot } from "@jetflow/contracts";

/** Sources of randomness and ids, injected so tests are deterministic. */
export interface Entropy {
  /** A number in [0, 1). */
  random(): number;
  /** A version 4 UUID. */
  uuid(): string;
}

/**
 * What `$$.Execution` shows: always the top-level execution's, also inside a Parallel branch or
 * a Map iteration (a child execution), as in Step Functions. Immutable once the execution
 * started, so callers may cache it.
 */
export interface RootExecution {
  executionId: string;
  /** The name given at start; "" when none was given (the id stands in). */
  executionName: string;
  inputJson: string;
  startTime: Date | undefined;
}

/** The `$$.Execution` source of a top-level execution: its own snapshot. */
export function rootExecutionOf(snapshot: ExecutionSnapshot): RootExecution {
  return {
    executionId: snapshot.executionId,
    executionName: snapshot.executionName,
    inputJson: snapshot.inputJson,
    startTime: snapshot.startTime,
  };
}

/** True when `snapshot` is a child execution (a branch or an iteration) of another execution. */
export function isChildExecution(snapshot: ExecutionSnapshot): boolean {
  return snapshot.rootExecutionId !== "" && snapshot.rootExecutionId !== snapshot.executionId;
}

/** The context object (`$$`) of state `stateName`; see `evaluationEnv`. */
function contextObject(
  snapshot: Pick<ExecutionSnapshot, "workflowName" | "workflowVersion" | "redriveCount">,
  root: RootExecution,
  stateName: string,
  enteredTime: Date,
  retryCount: number,
  taskToken: string | undefined,
): ContextObject {
  let input: Json | undefined;
  const execution = {
    Id: root.executionId,
    Name: root.executionName || root.executionId,
    StartTime: (root.startTime ?? enteredTime).toISOString(),
    // Every execution of a tree runs at its top-level execution's redrive count (a redrive
    // reaches the children through their parent), so a child's own count is the root's.
    RedriveCount: snapshot.redriveCount,
  } as ContextObject["Execution"];
  Object.defineProperty(execution, "Input", {
    enumerable: true,
    get: () => (input ??= JSON.parse(root.inputJson || "{}") as Json),
  });
  const context: ContextObject = {
    Execution: execution,
    State: { EnteredTime: enteredTime.toISOString(), Name: stateName, RetryCount: retryCount },
    StateMachine: {
      Id: `${snapshot.workflowName}:${snapshot.workflowVersion}`,
      Name: snapshot.workflowName,
    },
  };
  if (taskToken !== undefined) context.Task = { Token: taskToken };
  return context;
}

/**
 * The environment for evaluating state `stateName` of the execution in `snapshot`.
 * `$$.Execution` is the top-level execution's (`root`; for a top-level execution, its own
 * snapshot). `$$.Execution.Input` is parsed only when a path reads it.
 */
export function evaluationEnv(
  snapshot: ExecutionSnapshot,
  root: RootExecution,
  stateName: string,
  enteredTime: Date,
  retryCount: number,
  entropy: Entropy,
  taskToken?: string,
): EvaluationEnv {
  // Built on first read: most states never read `$$`, and building it (two ISO dates, an object
  // tree) was the orchestrator's costliest own function per step.
  // The snapshot's fields are read now: the decision may move the snapshot on before `$$` is read.
  const machine = {
    workflowName: snapshot.workflowName,
    workflowVersion: snapshot.workflowVersion,
    redriveCount: snapshot.redriveCount,
  };
  let context: ContextObject | undefined;
  const env: EvaluationEnv = {
    get context(): ContextObject {
      return (context ??= contextObject(machine, root, stateName, enteredTime, retryCount, taskToken));
    },
    random: () => entropy.random(),
    uuid: () => entropy.uuid(),
  };
  const variablesJson = snapshot.variablesJson;
  if (variablesJson !== undefined && variablesJson !== "") {
    // Parsed only when an expression or path reads a variable.
    let variables: Record<string, Json> | undefined;
    Object.defineProperty(env, "variables", {
      enumerable: true,
      get: () => (variables ??= JSON.parse(variablesJson) as Record<string, Json>),
    });
  }
  return env;
}
