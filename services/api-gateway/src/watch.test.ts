import { ExecutionStatus } from "@jetflow/contracts";
import type { ExecutionSnapshot } from "@jetflow/contracts";
import { parentOfChildId, resolveWatchTarget } from "./watch";

class NotFound extends Error {}

function snapshotsOf(byId: Record<string, ExecutionStatus>) {
  const load = (id: string) =>
    Promise.resolve(
      byId[id] === undefined ? undefined : ({ executionId: id, status: byId[id] } as ExecutionSnapshot),
    );
  const describe = async (id: string) => {
    const found = await load(id);
    if (found === undefined) throw new NotFound(`execution "${id}" does not exist`);
    return found;
  };
  return (id: string) => resolveWatchTarget(id, describe, load, (err) => err instanceof NotFound);
}

it("reads the parent id out of a branch or iteration id", () => {
  expect(parentOfChildId("9b2f-41c0_7_0")).toBe("9b2f-41c0");
  expect(parentOfChildId("n-abc_7_3_12_1")).toBe("n-abc_7_3");
  expect(parentOfChildId("9b2f-41c0")).toBeUndefined();
  expect(parentOfChildId("a_0_1")).toBeUndefined();
});

it("waits for a child its running parent announced, and only then", async () => {
  const resolveTarget = snapshotsOf({
    running: ExecutionStatus.EXECUTION_STATUS_RUNNING,
    ended: ExecutionStatus.EXECUTION_STATUS_SUCCEEDED,
    running_3_0: ExecutionStatus.EXECUTION_STATUS_RUNNING,
  });
  expect(await resolveTarget("running_3_0")).toMatchObject({ snapshot: { executionId: "running_3_0" } });
  expect(await resolveTarget("running_3_1")).toEqual({ announced: true, executionId: "running_3_1" });
  await expect(resolveTarget("ended_3_1")).rejects.toThrow('execution "ended_3_1" does not exist');
  await expect(resolveTarget("missing_3_1")).rejects.toThrow('execution "missing_3_1" does not exist');
  await expect(resolveTarget("plain")).rejects.toThrow('execution "plain" does not exist');
});
