/**
 * Where a child execution's state machine lives inside its workflow definition. A machine path
 * is "" for the top level, else a JSON array of [stateName, branchIndex] pairs from the top,
 * branchIndex -1 for a Map's ItemProcessor (state names may contain any character, so a
 * delimited string would be ambiguous).
 */
import { mapProcessor } from "@jetflow/asl";
import type { StateMachine } from "@jetflow/asl";
import type { ChildStart, ExecutionSnapshot } from "@jetflow/contracts";

/** Thrown when a machine path does not lead to a Parallel branch or a Map processor. */
export class MachinePathError extends Error {
  override readonly name = "MachinePathError";
  constructor(
    readonly machinePath: string,
    reason: string,
  ) {
    super(`machine path ${JSON.stringify(machinePath)} is invalid: ${reason}`);
  }
}

type Step = [stateName: string, branchIndex: number];

function parseSteps(machinePath: string): Step[] {
  if (machinePath === "") return [];
  let steps: unknown;
  try {
    steps = JSON.parse(machinePath);
  } catch {
    throw new MachinePathError(machinePath, "not JSON");
  }
  if (
    !Array.isArray(steps) ||
    !steps.every(
      (s) => Array.isArray(s) && s.length === 2 && typeof s[0] === "string" && Number.isInteger(s[1]),
    )
  ) {
    throw new MachinePathError(machinePath, "expected an array of [stateName, branchIndex] pairs");
  }
  return steps as Step[];
}

/**
 * The state machine at `machinePath` inside `root`.
 * @throws MachinePathError when a step names no Parallel branch or Map state
 */
export function resolveMachine(root: StateMachine, machinePath: string): StateMachine {
  let machine = root;
  for (const [stateName, branchIndex] of parseSteps(machinePath)) {
    const state = Object.prototype.hasOwnProperty.call(machine.States, stateName)
      ? machine.States[stateName]
      : undefined;
    if (state?.Type === "Parallel" && branchIndex >= 0) {
      const branch = state.Branches[branchIndex];
      if (!branch) throw new MachinePathError(machinePath, `"${stateName}" has no branch ${branchIndex}`);
      machine = branch;
    } else if (state?.Type === "Map" && branchIndex === -1) {
      machine = mapProcessor(state);
    } else {
      throw new MachinePathError(machinePath, `"${stateName}" is not a Parallel or Map state`);
    }
  }
  return machine;
}

/** The machine path of a child of state `stateName` (branch `index`, or -1 for a Map). */
export function childMachinePath(parentPath: string, stateName: string, branchIndex: number): string {
  return JSON.stringify([...parseSteps(parentPath), [stateName, branchIndex]]);
}

/**
 * Completes a child's start from its parent's snapshot: a child's Begin names only its parent
 * state and input; the workflow, the machine path and the root come from the parent. Returns
 * undefined when the parent no longer runs that round of children (the child is stale).
 */
export function completeChildStart(
  start: ChildStart,
  parent: ExecutionSnapshot | undefined,
  definition: StateMachine,
): ChildStart | undefined {
  const ref = start.parent;
  const phase = parent?.active?.phase;
  if (!ref || !parent || phase?.$case !== "children" || phase.value.startedEventId !== ref.entryEventId) {
    return undefined;
  }
  const machine = resolveMachine(definition, parent.machinePath);
  const parentState = Object.prototype.hasOwnProperty.call(machine.States, ref.stateName)
    ? machine.States[ref.stateName]
    : undefined;
  if (parentState?.Type !== "Parallel" && parentState?.Type !== "Map") return undefined;
  return {
    ...start,
    workflowName: parent.workflowName,
    workflowVersion: parent.workflowVersion,
    machinePath: childMachinePath(
      parent.machinePath,
      ref.stateName,
      parentState.Type === "Parallel" ? ref.index : -1,
    ),
    rootExecutionId: parent.rootExecutionId || parent.executionId,
    // A branch or iteration reads its outer scopes' variables; they cannot change while it runs
    // (the parent's state assigns only when it completes).
    variablesJson: parent.variablesJson,
  };
}
