/**
 * The workflows the benchmark runs, in the Amazon States Language. Every Task state runs the
 * no-op activity `noop` ({n} → {n: n+1}), so the figures measure the engine, not the work.
 */

/** The one activity of the benchmark. */
export const NOOP_ACTIVITY = "noop";

/** The no-op handler, shared by the engine's workers and the floor's. */
export function noop(input: { n: number }): { n: number } {
  return { n: input.n + 1 };
}

/** A workflow to register: its name and ASL text. */
export interface BenchWorkflow {
  name: string;
  definition: string;
}

/**
 * `steps` Task states in a row; from `{n: 0}` it ends with `{n: steps}`. With
 * `taskTimeoutSeconds`, every Task has that TimeoutSeconds, so each step also arms a timeout timer
 * (which goes stale when the task finishes in time).
 */
export function chainWorkflow(steps: number, taskTimeoutSeconds = 0): BenchWorkflow {
  const states: Record<string, unknown> = {};
  for (let i = 1; i <= steps; i++) {
    states[`Step${i}`] = {
      Type: "Task",
      Resource: NOOP_ACTIVITY,
      ...(taskTimeoutSeconds > 0 ? { TimeoutSeconds: taskTimeoutSeconds } : {}),
      ...(i < steps ? { Next: `Step${i + 1}` } : { End: true }),
    };
  }
  const name =
    taskTimeoutSeconds > 0 ? `bench-chain-${steps}-t${taskTimeoutSeconds}` : `bench-chain-${steps}`;
  return { name, definition: JSON.stringify({ StartAt: "Step1", States: states }) };
}

/**
 * A Map over `$.items` with no concurrency cap, one Task per item, then a join: the Map's result
 * is reduced to `{n: <item count>}` and one more Task makes it `{n: items + 1}`.
 */
export function fanOutWorkflow(): BenchWorkflow {
  return {
    name: "bench-fan-out",
    definition: JSON.stringify({
      StartAt: "FanOut",
      States: {
        FanOut: {
          Type: "Map",
          ItemsPath: "$.items",
          ItemProcessor: {
            StartAt: "Item",
            States: { Item: { Type: "Task", Resource: NOOP_ACTIVITY, End: true } },
          },
          ResultSelector: { "n.$": "States.ArrayLength($)" },
          Next: "Join",
        },
        Join: { Type: "Task", Resource: NOOP_ACTIVITY, End: true },
      },
    }),
  };
}

/**
 * W5's fan-out: the same Map, but its items are made by a JSONata expression from a count in the
 * input (`{items: 100000}`), because 100,000 items given in the input would be a message over
 * 1 MiB. The Map's result is reduced to its length by `Output`, as W2's by `ResultSelector`.
 */
export function generatedFanOutWorkflow(): BenchWorkflow {
  return {
    name: "bench-fan-out-generated",
    definition: JSON.stringify({
      QueryLanguage: "JSONata",
      StartAt: "FanOut",
      States: {
        FanOut: {
          Type: "Map",
          Items: "{% [0..($states.input.items - 1)].{'n': $} %}",
          ItemProcessor: {
            StartAt: "Item",
            States: { Item: { Type: "Task", Resource: NOOP_ACTIVITY, End: true } },
          },
          Output: "{% {'n': $count($states.result)} %}",
          Next: "Join",
        },
        Join: { Type: "Task", Resource: NOOP_ACTIVITY, End: true },
      },
    }),
  };
}

/** The input of the fan-out workflow for `items` items. */
export function fanOutInput(items: number): string {
  return JSON.stringify({ items: Array.from({ length: items }, (_, n) => ({ n })) });
}
