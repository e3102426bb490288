// @jetflow/client rides out restarts: StartExecution calls made while the api-gateway or the
// state-manager restarts all succeed, and each logical start makes exactly one execution (the
// client's request id turns a retried start into the same execution).
import { setTimeout as delay } from "node:timers/promises";
import { Code, createClient } from "@jetflow/client";
import type { ClientLogger, ExecutionSummary, JetflowClient } from "@jetflow/client";
import { waitFor } from "@jetflow/testing";
import { startEngine } from "../src";
import type { Engine } from "../src";

let engine: Engine;
let client: JetflowClient;
/** The codes of the attempts the client retried, as its logger reported them. */
const retried: string[] = [];

// A short state-manager timeout makes the "answer lost" case quick to produce: a start whose
// commit the frozen state-manager applies only after the gateway has given up on it.
const STATE_TIMEOUT_MS = 1_500;

beforeAll(async () => {
  engine = await startEngine({
    serviceEnv: { "api-gateway": { GATEWAY_STATE_TIMEOUT_MS: String(STATE_TIMEOUT_MS) } },
  });
  const logger: ClientLogger = { warn: (fields) => retried.push(String(fields.code)) };
  // The defaults under test: a 30 s deadline and no retry limit but it.
  client = createClient({ address: engine.grpcAddress, logger });
});

afterAll(async () => {
  client?.close();
  await engine?.stop();
});

beforeEach(() => {
  retried.length = 0;
});

const pass = JSON.stringify({ StartAt: "P", States: { P: { Type: "Pass", End: true } } });

/** Every top-level execution of `workflowName`, all pages. */
async function listAll(workflowName: string): Promise<ExecutionSummary[]> {
  const all: ExecutionSummary[] = [];
  let pageToken = "";
  do {
    const page = await client.listExecutions({ workflowName, pageSize: 1000, pageToken });
    all.push(...page.executions);
    pageToken = page.nextPageToken;
  } while (pageToken !== "");
  return all;
}

/**
 * Four loops of unnamed starts, each input unique, until `done()`; rejects with the first start
 * that fails. Resolves with the number of logical starts and the ids they returned.
 */
async function startRepeatedly(
  workflowName: string,
  done: (answered: number) => boolean,
): Promise<{ calls: number; ids: string[]; slowestMs: number }> {
  const ids: string[] = [];
  let calls = 0;
  let slowestMs = 0;
  const loop = async (loopIndex: number) => {
    while (!done(ids.length)) {
      calls += 1;
      const started = Date.now();
      const { executionId } = await client.startExecution({ workflowName, input: { loopIndex, calls } });
      slowestMs = Math.max(slowestMs, Date.now() - started);
      ids.push(executionId);
    }
  };
  await Promise.all([0, 1, 2, 3].map(loop));
  return { calls, ids, slowestMs };
}

/** Runs starts while `restart` runs; checks every start succeeded and made one execution. */
async function startThrough(workflowName: string, restart: () => Promise<void>): Promise<void> {
  await client.registerWorkflow({ name: workflowName, definition: pass });
  let answered = 0;
  // Starts go on until 20 more have been answered after the restart.
  const restarted: { answered?: number } = {};
  const starting = startRepeatedly(workflowName, (n) => {
    answered = n;
    return restarted.answered !== undefined && n >= restarted.answered + 20;
  });
  await waitFor(() => answered >= 20, { message: "20 starts before the restart" });
  await restart();
  restarted.answered = answered;
  const { calls, ids, slowestMs } = await starting;

  expect(retried.length).toBeGreaterThan(0);
  expect(new Set(retried)).toEqual(new Set(["UNAVAILABLE"]));
  expect(ids).toHaveLength(calls);
  expect(new Set(ids).size).toBe(calls);
  expect(slowestMs).toBeLessThan(30_000);
  const listed = await waitFor(async () => {
    const all = await listAll(workflowName);
    return all.length >= calls ? all : undefined;
  });
  expect(listed.map((e) => e.executionId).sort()).toEqual([...ids].sort());
  // The request ids stay internal: no execution got a name.
  expect(listed.filter((e) => e.executionName !== "")).toEqual([]);
}

describe("StartExecution through restarts", () => {
  it("succeeds for every call while the api-gateway is killed and restarted 2 s later", async () => {
    await startThrough("through-gateway-restart", async () => {
      const [gateway] = engine.services["api-gateway"];
      await gateway?.kill();
      await delay(2_000);
      await engine.startService("api-gateway");
    });
  });

  it("succeeds for every call while the state-manager is killed and restarted 2 s later", async () => {
    await startThrough("through-state-manager-restart", async () => {
      const [stateManager] = engine.services["state-manager"];
      await stateManager?.kill();
      await delay(2_000);
      await engine.startService("state-manager");
    });
  });
});

describe("watchExecution through a restart", () => {
  it("resumes after the gateway is killed and restarted 2 s later, missing no event", async () => {
    const waitThenPass = JSON.stringify({
      StartAt: "W",
      States: { W: { Type: "Wait", Seconds: 4, Next: "P" }, P: { Type: "Pass", End: true } },
    });
    await client.registerWorkflow({ name: "watched", definition: waitThenPass });
    const { executionId } = await client.startExecution({ workflowName: "watched" });
    const ids: number[] = [];
    const cases: string[] = [];
    const watching = (async () => {
      for await (const event of client.watchExecution({ executionId })) {
        ids.push(event.eventId);
        cases.push(event.details?.$case ?? "");
      }
    })();
    await waitFor(() => cases.includes("waitStarted"), { message: "the Wait state entered" });
    const [gateway] = engine.services["api-gateway"];
    await gateway?.kill();
    await delay(2_000);
    await engine.startService("api-gateway");
    await watching;
    expect(ids).toEqual(Array.from({ length: ids.length }, (_, i) => i + 1));
    expect(cases[cases.length - 1]).toBe("executionSucceeded");
    expect(retried).toContain("UNAVAILABLE");
  });
});

describe("an unnamed start retried after its answer was lost", () => {
  it("makes one execution: the retry carries the same request id and finds it", async () => {
    const workflowName = "lost-answer";
    await client.registerWorkflow({ name: workflowName, definition: pass });
    const [stateManager] = engine.services["state-manager"];
    if (!stateManager) throw new Error("no state-manager");
    // Frozen, the state-manager keeps the first attempt's commit unanswered past the gateway's
    // timeout (UNAVAILABLE, retried); thawed, it applies that commit, then sees the retry's.
    stateManager.signal("SIGSTOP");
    let started;
    try {
      started = client.startExecution({ workflowName, input: { order: 7 } });
      await waitFor(() => retried.length > 0, { message: "a retried start" });
    } finally {
      stateManager.signal("SIGCONT");
    }
    const { executionId } = await started;
    const listed = await waitFor(async () => {
      const all = await listAll(workflowName);
      return all.length > 0 ? all : undefined;
    });
    expect(listed.map((e) => e.executionId)).toEqual([executionId]);
    expect(retried[0]).toBe("UNAVAILABLE");
  });
});

describe("request ids", () => {
  it("return the same execution for the same workflow, key and input, and ALREADY_EXISTS for another input", async () => {
    await client.registerWorkflow({ name: "keyed", definition: pass });
    await client.registerWorkflow({ name: "keyed-other", definition: pass });
    const first = await client.startExecution({ workflowName: "keyed", input: { a: 1 }, requestId: "k-1" });
    const again = await client.startExecution({
      workflowName: "keyed",
      inputJson: '{ "a" : 1 }',
      requestId: "k-1",
    });
    expect(first.created).toBe(true);
    expect(again).toMatchObject({ executionId: first.executionId, created: false });
    // The key is scoped to the workflow.
    const elsewhere = await client.startExecution({
      workflowName: "keyed-other",
      input: { a: 1 },
      requestId: "k-1",
    });
    expect(elsewhere.created).toBe(true);
    expect(elsewhere.executionId).not.toBe(first.executionId);
    await expect(
      client.startExecution({ workflowName: "keyed", input: { a: 2 }, requestId: "k-1" }),
    ).rejects.toMatchObject({
      code: Code.ALREADY_EXISTS,
      details:
        'an execution started with request id "k-1" of workflow "keyed" already exists with another input',
    });
    const described = await client.describeExecution(first.executionId);
    expect(described.execution?.executionName).toBe("");
  });

  it("rejects a request id that is too long or holds control characters", async () => {
    for (const requestId of ["x".repeat(129), "a\nb"]) {
      await expect(client.startExecution({ workflowName: "keyed", requestId })).rejects.toMatchObject({
        code: Code.INVALID_ARGUMENT,
        details: "invalid request:\nrequest_id: must be at most 128 printable characters",
      });
    }
  });
});
