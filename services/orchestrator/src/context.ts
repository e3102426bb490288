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
 * The environment for evaluating state `stateName` of the execution in `snapshot`.
 * `$$.Execution.Input` is parsed only when a path reads it. In a child execution (a branch or an
 * iteration), `$$.Execution.Id`/`Name` are the top-level execution's, while `Input` and
 * `StartTime` are the child's own (documented in docs/asl.md).
 */
export function evaluationEnv(
  snapshot: ExecutionSnapshot,
  stateName: string,
  enteredTime: Date,
  retryCount: number,
  entropy: Entropy,
  taskToken?: string,
): EvaluationEnv {
  let input: Json | undefined;
  const execution = {
    Id: snapshot.rootExecutionId || snapshot.executionId,
    Name: snapshot.executionName || snapshot.rootExecutionId || snapshot.executionId,
    StartTime: (snapshot.startTime ?? enteredTime).toISOString(),
  } as ContextObject["Execution"];
  Object.defineProperty(execution, "Input", {
    enumerable: true,
    get: () => (input ??= JSON.parse(snapshot.inputJson || "{}") as Json),
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
  return { context, random: () => entropy.random(), uuid: () => entropy.uuid() };
}
