import { ExecutionStatus } from "@jetflow/contracts";
import type { ExecutionSummary } from "@jetflow/contracts";
import { ExecutionList, decodeListCursor, encodeListCursor } from "./execution-list";
import type { ExecutionPage } from "./execution-list";

const { RUNNING, SUCCEEDED, FAILED, UNSPECIFIED } = {
  RUNNING: ExecutionStatus.EXECUTION_STATUS_RUNNING,
  SUCCEEDED: ExecutionStatus.EXECUTION_STATUS_SUCCEEDED,
  FAILED: ExecutionStatus.EXECUTION_STATUS_FAILED,
  UNSPECIFIED: ExecutionStatus.EXECUTION_STATUS_UNSPECIFIED,
};

function summary(id: string, startMs: number, workflowName = "w", status = RUNNING): ExecutionSummary {
  return {
    executionId: id,
    executionName: "",
    workflowName,
    workflowVersion: 1,
    status,
    startTime: new Date(startMs),
    stopTime: undefined,
    redriveCount: 0,
    scheduleId: "",
  };
}

const ids = (list: ExecutionSummary[]) => list.map((s) => s.executionId);

/** The window's page, which these tests expect it to answer. */
function page(list: ExecutionList, ...args: Parameters<ExecutionList["page"]>): ExecutionPage {
  const answer = list.page(...args);
  if (answer === undefined) throw new Error("the window did not answer");
  return answer;
}

describe("ExecutionList", () => {
  it("lists newest first by start time, then by id, whatever the arrival order", () => {
    const list = new ExecutionList();
    for (const [id, t] of [
      ["b", 2],
      ["a", 2],
      ["c", 3],
      ["d", 1],
    ] as const)
      list.upsert(summary(id, t));
    expect(ids(page(list, "", UNSPECIFIED, 10).executions)).toEqual(["c", "b", "a", "d"]);
  });

  it("filters by name prefix and start-time range, and pages within the filter", () => {
    const list = new ExecutionList();
    for (let t = 1; t <= 10; t++)
      list.upsert({ ...summary(`e${t}`, t * 1000), executionName: t % 2 ? `odd-${t}` : `even-${t}` });
    const range = { startedAfterMs: 3000, startedBeforeMs: 8000 };
    expect(ids(page(list, "", UNSPECIFIED, 10, undefined, range).executions)).toEqual([
      "e7",
      "e6",
      "e5",
      "e4",
      "e3",
    ]);
    const first = page(list, "", UNSPECIFIED, 2, undefined, { ...range, namePrefix: "odd-" });
    expect(ids(first.executions)).toEqual(["e7", "e5"]);
    const second = page(list, "", UNSPECIFIED, 2, first.next, { ...range, namePrefix: "odd-" });
    expect(ids(second.executions)).toEqual(["e3"]);
    expect(second.next).toBeUndefined();
  });

  it("pages with a cursor until the last page, which has no next cursor", () => {
    const list = new ExecutionList();
    for (let i = 0; i < 5; i++) list.upsert(summary(`e${i}`, i));
    const first = page(list, "", UNSPECIFIED, 2);
    const second = page(list, "", UNSPECIFIED, 2, first.next);
    const third = page(list, "", UNSPECIFIED, 2, second.next);
    expect([ids(first.executions), ids(second.executions), ids(third.executions)]).toEqual([
      ["e4", "e3"],
      ["e2", "e1"],
      ["e0"],
    ]);
    expect(third.next).toBeUndefined();
    // A page that ends exactly at the last match has no next page either.
    expect(page(list, "", UNSPECIFIED, 5).next).toBeUndefined();
  });

  it("filters by workflow and by status, and follows status changes", () => {
    const list = new ExecutionList();
    list.upsert(summary("a", 1, "billing"));
    list.upsert(summary("b", 2, "shipping"));
    list.upsert(summary("c", 3, "billing"));
    list.upsert({ ...summary("a", 1, "billing"), status: FAILED });
    expect(ids(page(list, "billing", UNSPECIFIED, 10).executions)).toEqual(["c", "a"]);
    expect(ids(page(list, "", FAILED, 10).executions)).toEqual(["a"]);
    expect(ids(page(list, "billing", RUNNING, 10).executions)).toEqual(["c"]);
    expect(ids(page(list, "nobody", UNSPECIFIED, 10).executions)).toEqual([]);
    list.remove("c");
    expect(ids(page(list, "billing", UNSPECIFIED, 10).executions)).toEqual(["a"]);
  });

  it("answers a page among 100,000 executions in milliseconds, a rare status included", () => {
    const list = new ExecutionList();
    for (let i = 0; i < 100_000; i++) {
      const status = i % 1000 === 0 ? FAILED : i > 99_990 ? RUNNING : SUCCEEDED;
      list.upsert(summary(`e${i}`, 1_000_000 + i, `w${i % 50}`, status));
    }
    const started = performance.now();
    const page1 = page(list, "", UNSPECIFIED, 100);
    const page2 = page(list, "", UNSPECIFIED, 100, page1.next);
    const byWorkflow = page(list, "w7", UNSPECIFIED, 100);
    const failed = page(list, "", FAILED, 100);
    const elapsed = performance.now() - started;
    expect(ids(page2.executions)[0]).toBe("e99899");
    expect(byWorkflow.executions).toHaveLength(100);
    expect(failed.executions).toHaveLength(100);
    expect(failed.next).toBeUndefined();
    expect(elapsed).toBeLessThan(200);
  });
});

describe("list cursors", () => {
  it("round-trip through an opaque token and refuse anything else", () => {
    const cursor = { startMs: 1_700_000_000_000, executionId: "n-abc_1" };
    expect(decodeListCursor(encodeListCursor(cursor))).toEqual(cursor);
    expect(decodeListCursor("")).toBeUndefined();
    expect(() => decodeListCursor("bm90LWEtY3Vyc29y")).toThrow(
      'page_token: invalid page token "bm90LWEtY3Vyc29y"',
    );
  });
});
