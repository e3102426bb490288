import { ExecutionStatus } from "@jetflow/contracts";
import type { ExecutionSummary } from "@jetflow/contracts";
import { ExecutionIndex } from "./execution-index";
import { ExecutionList, PageCollector } from "./execution-list";
import type { ExecutionPage, ListCursor, ListFilter } from "./execution-list";

const { RUNNING, SUCCEEDED, FAILED, ABORTED, UNSPECIFIED } = {
  RUNNING: ExecutionStatus.EXECUTION_STATUS_RUNNING,
  SUCCEEDED: ExecutionStatus.EXECUTION_STATUS_SUCCEEDED,
  FAILED: ExecutionStatus.EXECUTION_STATUS_FAILED,
  ABORTED: ExecutionStatus.EXECUTION_STATUS_ABORTED,
  UNSPECIFIED: ExecutionStatus.EXECUTION_STATUS_UNSPECIFIED,
};

/** A small deterministic generator (mulberry32), so that a failure can be replayed. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function summary(
  id: string,
  startMs: number,
  workflowName = "w",
  status = RUNNING,
  name = "",
): ExecutionSummary {
  return {
    executionId: id,
    executionName: name,
    workflowName,
    workflowVersion: 1,
    status,
    startTime: new Date(startMs),
    stopTime: status === RUNNING ? undefined : new Date(startMs + 10),
    redriveCount: 0,
    scheduleId: "",
  };
}

/**
 * A bucket as a map, a window of `capacity` fed with every write (as the KV watch feeds the
 * gateway's), an unbounded list (today's view, the reference) and the index over both.
 */
function fixture(capacity: number) {
  const bucket = new Map<string, ExecutionSummary>();
  const window = new ExecutionList(capacity);
  const reference = new ExecutionList();
  const index = new ExecutionIndex({
    list: window,
    view: { sync: () => Promise.resolve() },
    scan: (visit) => {
      for (const s of bucket.values()) visit(s);
      return Promise.resolve();
    },
    get: (id) => Promise.resolve(bucket.get(id)),
  });
  return {
    window,
    index,
    reference,
    put(s: ExecutionSummary) {
      bucket.set(s.executionId, s);
      window.upsert(s);
      reference.upsert(s);
    },
    del(id: string) {
      bucket.delete(id);
      window.remove(id);
      reference.remove(id);
    },
    /** The reference's answer (an unbounded list always answers). */
    expected(...args: Parameters<ExecutionList["page"]>): ExecutionPage {
      return reference.page(...args) as ExecutionPage;
    },
  };
}

const ids = (page: ExecutionPage) => page.executions.map((s) => s.executionId);

describe("ExecutionList with a capacity", () => {
  it("keeps the newest executions and refuses a page that would need one it let go", () => {
    const list = new ExecutionList(3);
    for (let i = 0; i < 5; i++) list.upsert(summary(`e${i}`, i));
    expect(list.size).toBe(3);
    expect(list.complete).toBe(false);
    const first = list.page("", UNSPECIFIED, 2);
    expect(first && ids(first)).toEqual(["e4", "e3"]);
    // e2 is held, but whether e1 follows it is known only to the bucket.
    expect(list.page("", UNSPECIFIED, 2, first?.next)).toBeUndefined();
    // A range that ends above the boundary is answered.
    expect(list.page("", UNSPECIFIED, 10, undefined, { startedAfterMs: 2 })?.executions).toHaveLength(3);
    // A late status change of an execution it let go is not taken in (the bucket has it).
    list.upsert(summary("e0", 0, "w", FAILED));
    expect(list.size).toBe(3);
    expect(list.page("", FAILED, 10, undefined, { startedAfterMs: 2 })?.executions).toEqual([]);
  });

  it("refuses a range that starts at the start time of the execution it let go (a tie)", () => {
    const list = new ExecutionList(2);
    for (const [id, t] of [
      ["a", 5],
      ["b", 5],
      ["c", 6],
    ] as const)
      list.upsert(summary(id, t));
    expect(list.page("", UNSPECIFIED, 10, undefined, { startedAfterMs: 5 })).toBeUndefined();
    expect(list.page("", UNSPECIFIED, 10, undefined, { startedAfterMs: 6 })?.executions).toHaveLength(1);
  });

  it("holds every execution, and answers every page, until it is over capacity", () => {
    const list = new ExecutionList(3);
    for (let i = 0; i < 3; i++) list.upsert(summary(`e${i}`, i));
    list.remove("e1");
    list.upsert(summary("e5", 5));
    expect(list.complete).toBe(true);
    expect(list.page("", UNSPECIFIED, 10)?.executions.map((s) => s.executionId)).toEqual(["e5", "e2", "e0"]);
  });
});

describe("ExecutionIndex", () => {
  it("answers every query as the unbounded list does, across the window's boundary", async () => {
    const next = random(20_240_601);
    const pick = <T>(values: readonly T[]): T => values[Math.floor(next() * values.length)] as T;
    const statuses = [RUNNING, SUCCEEDED, FAILED, ABORTED];
    const f = fixture(40);
    // Starts mostly in order, with ties and some late arrivals; status changes and deletions mixed in.
    for (let i = 0; i < 300; i++) {
      const startMs = 1_000 + Math.floor(i / 2) * 10 - (next() < 0.1 ? Math.floor(next() * 500) : 0);
      f.put(summary(`e-${i}`, startMs, pick(["a", "b", "c"]), pick(statuses), pick(["x-1", "x-2", "y"])));
      if (next() < 0.2) {
        const old = `e-${Math.floor(next() * i)}`;
        const current = f.expected("", UNSPECIFIED, 1_000).executions.find((s) => s.executionId === old);
        if (current) f.put({ ...current, status: pick(statuses) });
      }
      if (next() < 0.05) f.del(`e-${Math.floor(next() * i)}`);
    }
    expect(f.window.complete).toBe(false);

    let fromWindow = 0;
    for (let q = 0; q < 200; q++) {
      const workflowName = pick(["", "", "a", "b", "nobody"]);
      const status = pick([UNSPECIFIED, UNSPECIFIED, ...statuses]);
      const size = pick([1, 3, 10, 50]);
      const filter: ListFilter = {
        namePrefix: pick(["", "", "x-", "x-2"]),
        startedAfterMs: next() < 0.3 ? 1_000 + Math.floor(next() * 1_600) : undefined,
        startedBeforeMs: next() < 0.3 ? 1_000 + Math.floor(next() * 1_600) : undefined,
      };
      // Follow the query's pages to their end: every cursor the index gives must page on as the
      // reference does.
      let cursor: ListCursor | undefined;
      for (let pageNo = 0; pageNo < 400; pageNo++) {
        const scansBefore = f.index.scans;
        const got = await f.index.page(workflowName, status, size, cursor, filter);
        if (f.index.scans === scansBefore) fromWindow++;
        expect(got).toEqual(f.expected(workflowName, status, size, cursor, filter));
        if (got.next === undefined) break;
        cursor = got.next;
      }
    }
    // Both paths were taken.
    expect(fromWindow).toBeGreaterThan(50);
    expect(f.index.scans).toBeGreaterThan(50);
  });

  it("reads ahead from a scan: the page, then the executions of the next pages", async () => {
    const f = fixture(10);
    for (let i = 0; i < 100; i++) f.put(summary(`e${String(i).padStart(3, "0")}`, i, i % 2 ? "a" : "b"));
    const cursor = { startMs: 50, executionId: "e050" };
    const read = await f.index.pageReadingAhead("a", UNSPECIFIED, 5, 20, cursor);
    expect(f.index.scans).toBe(1);
    const reference = f.expected("a", UNSPECIFIED, 25, cursor);
    expect(read.executions).toEqual(reference.executions.slice(0, 5));
    expect(read.next).toEqual(f.expected("a", UNSPECIFIED, 5, cursor).next);
    expect(read.ahead?.executions).toEqual(reference.executions.slice(5, 20));
    expect(read.ahead?.next).toEqual(f.expected("a", UNSPECIFIED, 20, cursor).next);
    // The window answers without reading ahead.
    expect((await f.index.pageReadingAhead("", UNSPECIFIED, 5, 20)).ahead).toBeUndefined();
    expect((await f.index.current(["e099", "e001", "gone"])).size).toBe(2);
  });

  it("visits every execution, from the window while it is complete and from a scan after", async () => {
    const f = fixture(3);
    for (let i = 0; i < 3; i++) f.put(summary(`e${i}`, i));
    const seen: string[] = [];
    await f.index.forEach((s) => seen.push(s.executionId));
    expect(seen.sort()).toEqual(["e0", "e1", "e2"]);
    expect(f.index.scans).toBe(0);
    f.put(summary("e3", 3));
    const all: string[] = [];
    await f.index.forEach((s) => all.push(s.executionId));
    expect(all.sort()).toEqual(["e0", "e1", "e2", "e3"]);
    expect(f.index.scans).toBe(1);
  });
});

describe("PageCollector", () => {
  it("holds one more match than the page, whatever the order it sees them in", () => {
    const collector = new PageCollector({ workflowName: "", status: UNSPECIFIED, size: 2 });
    for (const [id, t] of [
      ["b", 2],
      ["d", 1],
      ["c", 3],
      ["a", 2],
    ] as const)
      collector.add(summary(id, t));
    const page = collector.page();
    expect(ids(page)).toEqual(["c", "b"]);
    expect(page.next).toEqual({ startMs: 2, executionId: "b" });
  });
});
