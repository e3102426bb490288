/** What a decision is given besides the snapshot and the command, and what it answers. */
import type { Json, StateMachine } from "@jetflow/asl";
import type { Entropy, RootExecution } from "./context";

/** What a decision needs besides the snapshot and the command. */
export interface DecideEnv extends Entropy {
  /** The current time; every event of the transition carries it. */
  now: Date;
  /** The workflow's whole definition (the execution's machine is resolved from it). */
  definition: StateMachine;
  /** At most this many children are launched by one transition (bounded batch size). Default 500. */
  maxChildrenPerTransition?: number;
  /** Children's inputs launched by one transition add up to at most about this many bytes. Default 256 KiB. */
  maxLaunchBytesPerTransition?: number;
  /** At most this many states are entered by one transition (a Pass/Choice loop). Default 1000. */
  maxStatesPerTransition?: number;
  /**
   * Outputs of the succeeded children of a Parallel/Map round, by child index, read by the adapter
   * from the parent's history. Looked up only when the last child completes; when it answers
   * undefined, the decision returns a {@link DecisionNeed} for them instead of deciding.
   */
  childOutputs?: (startedEventId: number) => ReadonlyMap<number, string> | undefined;
  /**
   * The top-level execution that `$$.Execution` shows; required when deciding for a child
   * execution (a branch or an iteration), whose own snapshot holds only its own input.
   */
  root?: RootExecution;
  /**
   * The last heartbeat recorded for a task attempt, in epoch ms (undefined when none was). Asked
   * only for a result received more than HeartbeatSeconds after its task was scheduled.
   */
  lastHeartbeatMs?: (taskToken: string) => number | undefined;
  /**
   * Remembers a Map round's items between transitions: `compute` evaluates them (ItemsPath or
   * the JSONata `Items`), the same for every launch slice of the round (its input and entropy are
   * fixed at the state's entry), so an adapter may answer a value it kept under `roundKey`
   * instead. Without it every slice evaluates the items again: quadratic over a large Map. The
   * answer must not be changed by the caller; the decision only reads it.
   */
  roundItems?: (roundKey: string, compute: () => Json[]) => readonly Json[];
}

/** Why a command changed nothing (for logs and counters); undefined when it did something. */
export type Ignored = "unknown-execution" | "not-running" | "stale" | "duplicate" | "malformed" | undefined;

/**
 * Data a decision cannot be taken without, which only the adapter can read: the outputs of a
 * Parallel/Map round's children (they travel in the parent's history, not in its snapshot). The
 * adapter reads them, provides them through {@link DecideEnv.childOutputs} and decides again.
 */
export interface DecisionNeed {
  readonly kind: "child-outputs";
  /** The event that started the round (MapStarted or ParallelStarted). */
  readonly startedEventId: number;
}

export const DEFAULT_MAX_CHILDREN = 500;
export const DEFAULT_MAX_LAUNCH_BYTES = 256 * 1024;
export const DEFAULT_MAX_STATES = 1000;
