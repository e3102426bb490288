/**
 * Parallel and Map states: starting a round of child executions, launching them within
 * MaxConcurrency and the per-transition budgets, applying their completions, and finishing the
 * round with their outputs in index order.
 */
import {
  StatesError,
  effectiveInput,
  mapItemInput,
  mapItems,
  maxConcurrency as mapMaxConcurrency,
  stateAssignments,
  stateOutput,
  toleratedFailures,
} from "@jetflow/asl";
import type { EvaluationEnv, Json, MapState, ParallelState } from "@jetflow/asl";
import { ExecutionStatus } from "@jetflow/contracts";
import type { ActiveState, ChildCompleted, ChildrenPhase } from "@jetflow/contracts";
import { childExecutionId, emptyBitmap, hasBit, withBit } from "../model";
import { DEFAULT_MAX_CHILDREN, DEFAULT_MAX_LAUNCH_BYTES } from "./env";
import { recover } from "./recovery";
import { continueWith, parseJson, toStatesError } from "./run";
import type { Handled, NextState, Run } from "./run";

type ChildrenState = ParallelState | MapState;

/** Starts a round of children; returns the next state when there is nothing to wait for. */
export function startChildren(run: Run, state: ChildrenState, input: Json): NextState | undefined {
  const active = run.active();
  const env = roundEnv(run, active);
  if (state.Type === "Parallel") {
    const effective = effectiveInput(state, input, env);
    run.t.emit({ $case: "parallelStarted", value: { branchCount: state.Branches.length } }, active.name);
    launch(run, state, effective);
  } else {
    const items = mapItems(state, input, env);
    const limit = mapMaxConcurrency(state, input, env);
    const tolerated = toleratedFailures(state, input, items.length, env).maxFailures;
    run.t.emit(
      {
        $case: "mapStarted",
        value: { itemCount: items.length, maxConcurrency: limit, toleratedFailures: tolerated },
      },
      active.name,
    );
    if (items.length === 0) return finishChildren(run, state, active, []);
    launch(run, state, input, items);
  }
  return undefined;
}

/** Launches as many children as concurrency and the per-transition bound allow. */
function launch(run: Run, state: ChildrenState, input: Json, items?: Json[]): void {
  const { t } = run;
  const active = run.active();
  const initial = run.children();
  if (!initial) return;
  const running = initial.launched - initial.succeeded - initial.failed;
  const byConcurrency =
    initial.maxConcurrency > 0 ? initial.maxConcurrency - running : initial.total - initial.launched;
  const budget = run.env.maxChildrenPerTransition ?? DEFAULT_MAX_CHILDREN;
  const count = Math.max(0, Math.min(byConcurrency, initial.total - initial.launched, budget));
  // Each item's ItemSelector is evaluated once, with fresh entropy; the items list again per slice.
  const env = run.envFor(active);
  const byteBudget = run.env.maxLaunchBytesPerTransition ?? DEFAULT_MAX_LAUNCH_BYTES;
  let bytes = 0;
  let launched = 0;
  let mapItemsList: readonly Json[] | undefined = items;
  // Read before emitting: each emitted event updates the phase in place.
  const firstIndex = initial.launched;
  const startedEventId = initial.startedEventId;
  const redriveCount = run.snapshot.redriveCount;
  for (; launched < count && bytes < byteBudget; launched++) {
    const index = firstIndex + launched;
    const childId = childExecutionId(run.executionId, startedEventId, index);
    if (state.Type === "Parallel") {
      const inputJson = JSON.stringify(input);
      bytes += inputJson.length;
      t.emit(
        {
          $case: "parallelBranchStarted",
          value: { index, childExecutionId: childId, inputJson, redriveCount },
        },
        active.name,
      );
    } else {
      mapItemsList ??= roundItems(run, state, input, active);
      const item = mapItemsList[index] ?? null;
      const inputJson = JSON.stringify(mapItemInput(state, input, index, item, env));
      bytes += inputJson.length;
      t.emit(
        {
          $case: "mapIterationStarted",
          value: { index, childExecutionId: childId, inputJson, redriveCount },
        },
        active.name,
      );
    }
  }
  // A slice cut short by a per-transition budget (not by MaxConcurrency) continues by itself.
  const after = run.children();
  const cutShort = launched < count || count === budget;
  if (after && cutShort && after.launched < after.total) {
    const runningNow = after.launched - after.succeeded - after.failed;
    if (after.maxConcurrency === 0 || runningNow < after.maxConcurrency) {
      t.emit(
        {
          $case: "childLaunchPending",
          value: { nextIndex: after.launched, entryEventId: after.startedEventId },
        },
        active.name,
      );
    }
  }
}

/** ContinueChildren: launches the next slice of the round started by `startedEventId`. */
export function continueChildren(run: Run, startedEventId: number): Handled {
  const active = run.snapshot.active;
  if (active?.phase?.$case !== "children" || active.phase.value.startedEventId !== startedEventId)
    return "stale";
  const state = run.state(active.name);
  if (state.Type !== "Parallel" && state.Type !== "Map") return "stale";
  const before = run.t.size;
  let next: NextState | undefined;
  try {
    launch(run, state, childrenInput(run, state, active));
  } catch (err) {
    next = failChildren(run, state, toStatesError(err));
  }
  if (run.t.size === before) return "duplicate";
  return continueWith(next);
}

/**
 * A Map round's items, kept by the adapter between slices when it can (see DecideEnv.roundItems):
 * the round is named by the execution and the state's entry event.
 */
function roundItems(run: Run, state: MapState, input: Json, active: ActiveState): readonly Json[] {
  const compute = () => mapItems(state, input, roundEnv(run, active));
  const remember = run.env.roundItems;
  return remember ? remember(`${run.executionId}/${active.entryEventId}`, compute) : compute();
}

function childrenInput(run: Run, state: ChildrenState, active: ActiveState): Json {
  const input = parseJson(active.inputJson);
  return state.Type === "Parallel" ? effectiveInput(state, input, roundEnv(run, active)) : input;
}

/**
 * The evaluation env of a round's shared inputs (Parallel Arguments, Map Items): they are
 * evaluated again for every launch slice, so a JSONata expression must see the same `$now()`,
 * `$random()` and `$uuid()` each time. Its time is the state's entry and its entropy is seeded
 * by the execution and the state's entry event, never drawn afresh.
 */
function roundEnv(run: Run, active: ActiveState): EvaluationEnv {
  const env = run.envFor(active);
  const next = seededSource(`${run.executionId}/${active.entryEventId}`);
  env.nowMs = (active.enteredTime ?? run.env.now).getTime();
  env.random = next;
  env.uuid = () => seededUuid(next);
  return env;
}

/** A deterministic source of numbers in [0, 1) from `seed` (FNV-1a, then mulberry32). */
function seededSource(seed: string): () => number {
  let state = 0x811c9dc5;
  for (let i = 0; i < seed.length; i++) state = Math.imul(state ^ seed.charCodeAt(i), 0x01000193);
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), state | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A version 4 UUID drawn from `next`. */
function seededUuid(next: () => number): string {
  const hex = Array.from({ length: 32 }, () => Math.floor(next() * 16).toString(16));
  hex[12] = "4";
  hex[16] = ((parseInt(hex[16] as string, 16) & 0x3) | 0x8).toString(16);
  const h = hex.join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/**
 * Applies a child's completion. When it is the round's last, the round's result needs the
 * children's outputs: without them in the env, it returns a need for them and decides nothing.
 */
export function applyChildCompleted(run: Run, done: ChildCompleted): Handled {
  const { t } = run;
  const active = run.snapshot.active;
  const ref = done.parent;
  if (
    !ref ||
    active?.phase?.$case !== "children" ||
    active.phase.value.startedEventId !== ref.entryEventId ||
    active.name !== ref.stateName
  ) {
    return "stale";
  }
  // A completion sent before the parent's latest redrive belongs to the earlier attempt.
  if (ref.redriveCount < run.snapshot.redriveCount) return "stale";
  const children = active.phase.value;
  if (ref.index >= children.total || hasBit(children.completed, ref.index)) return "duplicate";
  const state = run.state(active.name);
  if (state.Type !== "Parallel" && state.Type !== "Map") return "stale";
  const succeeded = done.status === ExecutionStatus.EXECUTION_STATUS_SUCCEEDED;
  const index = ref.index;
  if (state.Type === "Parallel") {
    t.emit(
      succeeded
        ? { $case: "parallelBranchSucceeded", value: { index, outputJson: done.outputJson } }
        : { $case: "parallelBranchFailed", value: { index, error: done.error, cause: done.cause } },
      active.name,
    );
  } else {
    t.emit(
      succeeded
        ? { $case: "mapIterationSucceeded", value: { index, outputJson: done.outputJson } }
        : { $case: "mapIterationFailed", value: { index, error: done.error, cause: done.cause } },
      active.name,
    );
  }
  const now = run.active();
  if (now.phase?.$case !== "children") return undefined;
  const phase = now.phase.value;
  if (!succeeded) {
    const tooMany = state.Type === "Parallel" || phase.failed > phase.toleratedFailures;
    if (tooMany) {
      const toleranceSet =
        state.Type === "Map" &&
        (state.ToleratedFailureCount !== undefined ||
          state.ToleratedFailurePercentage !== undefined ||
          state.ToleratedFailureCountPath !== undefined ||
          state.ToleratedFailurePercentagePath !== undefined);
      const error = toleranceSet
        ? new StatesError(
            "States.ExceedToleratedFailureThreshold",
            `${phase.failed} of ${phase.total} iterations failed, more than the ${phase.toleratedFailures} tolerated`,
          )
        : new StatesError(done.error || "States.BranchFailed", done.cause);
      return continueWith(failChildren(run, state, error));
    }
  }
  if (phase.succeeded + phase.failed === phase.total) {
    const stored = run.env.childOutputs?.(phase.startedEventId);
    if (!stored) return { need: { kind: "child-outputs", startedEventId: phase.startedEventId } };
    // Completions applied earlier in this same transition are not in the stream yet.
    const outputs = new Map(stored);
    for (const event of t.emitted) {
      if (event.eventId <= phase.startedEventId) continue;
      const d = event.details;
      if (d?.$case === "mapIterationSucceeded" || d?.$case === "parallelBranchSucceeded") {
        outputs.set(d.value.index, d.value.outputJson);
      }
    }
    const results: Json[] = [];
    for (let i = 0; i < phase.total; i++) {
      const out = outputs.get(i);
      results.push(out === undefined ? null : parseJson(out));
    }
    return continueWith(finishChildren(run, state, now, results));
  }
  // A completion frees a slot only under MaxConcurrency; without a cap every child is launched
  // already, or ChildLaunchPending continues the launch. Skipping this keeps a completion from
  // re-reading the whole input (quadratic over a large Map).
  const free =
    phase.maxConcurrency > 0 && phase.launched - phase.succeeded - phase.failed < phase.maxConcurrency;
  if (phase.launched < phase.total && free) {
    try {
      launch(run, state, childrenInput(run, state, now));
    } catch (err) {
      return continueWith(failChildren(run, state, toStatesError(err)));
    }
  }
  return undefined;
}

/** The round failed: stops the children still running, then Retry/Catch on the state. */
function failChildren(run: Run, state: ChildrenState, error: StatesError): NextState | undefined {
  const active = run.active();
  if (active.phase?.$case === "children") run.cancelChildren(active.name, active.phase.value);
  run.t.emit(
    state.Type === "Parallel"
      ? { $case: "parallelFailed", value: { error: error.error, cause: error.cause } }
      : { $case: "mapFailed", value: { error: error.error, cause: error.cause } },
    active.name,
  );
  return recover(run, state, error);
}

/** All children done: the state's result is their outputs in index order. */
function finishChildren(
  run: Run,
  state: ChildrenState,
  active: ActiveState,
  results: Json[],
): NextState | undefined {
  run.t.emit(
    state.Type === "Parallel"
      ? { $case: "parallelSucceeded", value: {} }
      : { $case: "mapSucceeded", value: {} },
    active.name,
  );
  let output: Json;
  let assignedJson: string | undefined;
  try {
    const input = parseJson(active.inputJson);
    const env = run.envFor(active);
    output = stateOutput(state, input, results, env);
    if (state.Assign !== undefined)
      assignedJson = run.assignedJson(stateAssignments(state, input, results, env));
  } catch (err) {
    return recover(run, state, toStatesError(err));
  }
  return run.exit(active.name, output, assignedJson);
}

/**
 * Redrive of a Parallel/Map state whose round `round` did not succeed: the state is entered again
 * (by the caller) and resumes that round. The children that succeeded keep their outputs (read
 * from the history: `outputs`), the others are launched again (a child that ended unsuccessfully
 * is redriven itself, one never started is started), then launching continues as usual.
 */
export function redriveChildren(
  run: Run,
  state: ChildrenState,
  round: ChildrenPhase,
  outputs: ReadonlyMap<number, string>,
): NextState | undefined {
  const { t } = run;
  const active = run.active();
  let succeeded = emptyBitmap(round.total);
  let succeededCount = 0;
  for (const index of outputs.keys()) {
    if (index < round.total && !hasBit(succeeded, index)) {
      succeeded = withBit(succeeded, index);
      succeededCount++;
    }
  }
  t.emit(
    {
      $case: "childrenRedriven",
      value: {
        startedEventId: round.startedEventId,
        total: round.total,
        maxConcurrency: round.maxConcurrency,
        toleratedFailures: round.toleratedFailures,
        succeeded,
        succeededCount,
        launched: round.launched,
      },
    },
    active.name,
  );
  let input: Json;
  try {
    input = childrenInput(run, state, active);
    const items = state.Type === "Map" ? mapItems(state, input, run.envFor(active)) : undefined;
    const redriveCount = run.snapshot.redriveCount;
    for (let index = 0; index < round.launched; index++) {
      if (hasBit(succeeded, index)) continue;
      const childId = childExecutionId(run.executionId, round.startedEventId, index);
      if (state.Type === "Parallel") {
        t.emit(
          {
            $case: "parallelBranchStarted",
            value: { index, childExecutionId: childId, inputJson: JSON.stringify(input), redriveCount },
          },
          active.name,
        );
      } else {
        const inputJson = JSON.stringify(
          mapItemInput(state, input, index, items?.[index] ?? null, run.envFor(active)),
        );
        t.emit(
          {
            $case: "mapIterationStarted",
            value: { index, childExecutionId: childId, inputJson, redriveCount },
          },
          active.name,
        );
      }
    }
    if (round.launched < round.total) launch(run, state, input, items);
  } catch (err) {
    return failChildren(run, state, toStatesError(err));
  }
  if (succeededCount === round.total) {
    // Every child had succeeded: the round failed after them (its output), which runs again.
    const results: Json[] = [];
    for (let i = 0; i < round.total; i++) {
      const out = outputs.get(i);
      results.push(out === undefined ? null : parseJson(out));
    }
    return finishChildren(run, state, run.active(), results);
  }
  return undefined;
}
