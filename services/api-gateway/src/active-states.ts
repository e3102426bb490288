/**
 * The states currently active in an execution, nested ones included: a running Parallel or Map
 * state lists itself, then the active states of its running branches or iterations (each a child
 * execution with its own snapshot), depth first. Names are unique within a state machine, so each
 * is listed once however many iterations are in it. Reading children costs one snapshot load
 * each: at most `maxLoads` per call (a Map with thousands of running iterations lists the states
 * of the first ones only).
 */
import { ExecutionStatus } from "@jetflow/contracts";
import type { ExecutionSnapshot } from "@jetflow/contracts";
import { childExecutionId, hasBit } from "@jetflow/engine";

/** Child snapshots loaded per DescribeExecution at most. */
export const MAX_CHILD_LOADS = 64;

/** Names of the active states of `snapshot` and of its running children. */
export async function activeStateNames(
  snapshot: ExecutionSnapshot,
  load: (executionId: string) => Promise<ExecutionSnapshot | undefined>,
  maxLoads = MAX_CHILD_LOADS,
): Promise<string[]> {
  const names = new Set<string>();
  let budget = maxLoads;
  const visit = async (s: ExecutionSnapshot): Promise<void> => {
    if (s.status !== ExecutionStatus.EXECUTION_STATUS_RUNNING || s.active === undefined) return;
    names.add(s.active.name);
    const phase = s.active.phase;
    if (phase?.$case !== "children") return;
    const ids: string[] = [];
    for (let i = 0; i < phase.value.launched && ids.length < budget; i++) {
      if (!hasBit(phase.value.completed, i)) {
        ids.push(childExecutionId(s.executionId, phase.value.startedEventId, i));
      }
    }
    budget -= ids.length;
    const children = await Promise.all(ids.map((id) => load(id)));
    for (const child of children) if (child !== undefined) await visit(child);
  };
  await visit(snapshot);
  return [...names];
}
