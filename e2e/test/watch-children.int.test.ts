/**
 * Watching Parallel branches: a branch is announced in its parent's history before it is
 * created, so a watch that follows the parent asks for a child that may not exist yet. The
 * gateway waits for it (while the parent runs), and `jetflow watch` shows every branch's lines
 * whatever the timing. The race is made deterministic by watching a branch's id while its parent
 * is held at a task that only the test completes.
 */
import { spawn } from "node:child_process";
import { resolve } from "node:path";
import { Code, JetflowError, createClient } from "@jetflow/client";
import type { HistoryEvent, JetflowClient } from "@jetflow/client";
import { streams, subjects } from "@jetflow/contracts";
import { waitFor } from "@jetflow/testing";
import { jetstreamManager } from "@nats-io/jetstream";
import { useEngine } from "./fixture";

const CLI = resolve(__dirname, "../../packages/cli/dist/main.js");
const fixture = useEngine();
let client: JetflowClient;

/** Held at Gate (no worker runs "gate": the test completes it), then two branches of one task. */
const gated = JSON.stringify({
  StartAt: "Gate",
  States: {
    Gate: { Type: "Task", Resource: "gate", TimeoutSeconds: 120, Next: "Both" },
    Both: {
      Type: "Parallel",
      Branches: [0, 1].map((i) => ({
        StartAt: `Inc${i}`,
        States: { [`Inc${i}`]: { Type: "Task", Resource: "inc", TimeoutSeconds: 60, End: true } },
      })),
      End: true,
    },
  },
});

beforeAll(async () => {
  client = createClient({ address: fixture.engine.grpcAddress, retries: 0 });
  await client.registerWorkflow({ name: "gated", definition: gated });
});

afterAll(() => client?.close());

async function history(executionId: string): Promise<HistoryEvent[]> {
  return (await client.getExecutionHistory({ executionId, pageSize: 1000 })).events;
}

/** Waits until the execution is held at Gate and returns the gate task's token. */
async function gateToken(executionId: string): Promise<string> {
  return waitFor(async () => {
    const d = (await history(executionId)).find((e) => e.details?.$case === "taskScheduled")?.details;
    return d?.$case === "taskScheduled" ? d.value.taskToken : undefined;
  });
}

/** Runs one gated execution to its end: the ids its branches got. */
async function branchIdsOfAFinishedRun(): Promise<{ executionId: string; branchIds: string[] }> {
  const { executionId } = await client.startExecution({ workflowName: "gated", input: { n: 0 } });
  await client.sendTaskSuccess(await gateToken(executionId), { n: 0 });
  await client.waitForExecution(executionId);
  const branchIds = (await history(executionId)).flatMap((e) =>
    e.details?.$case === "parallelBranchStarted" ? [e.details.value.childExecutionId] : [],
  );
  return { executionId, branchIds };
}

/** True when the gateway has a consumer reading the events of `executionId`. */
async function someoneReadsEventsOf(executionId: string): Promise<boolean> {
  const jsm = await jetstreamManager(fixture.nc);
  const consumers = await jsm.consumers.list(streams.events).next();
  const subject = subjects.events(executionId);
  return consumers.some(
    (c) => c.config.filter_subject === subject || (c.config.filter_subjects ?? []).includes(subject),
  );
}

it("a watch of a branch that is not created yet waits for it and streams all its events", async () => {
  // Branch ids are `<parent>_<entry event>_<index>`: a finished run tells the suffixes.
  const reference = await branchIdsOfAFinishedRun();
  expect(reference.branchIds).toHaveLength(2);
  const suffixes = reference.branchIds.map((id) => id.slice(reference.executionId.length));

  const { executionId } = await client.startExecution({ workflowName: "gated", input: { n: 10 } });
  const token = await gateToken(executionId);
  const branchIds = suffixes.map((suffix) => `${executionId}${suffix}`);
  for (const id of branchIds) {
    await expect(client.describeExecution(id)).rejects.toMatchObject({ code: Code.NOT_FOUND });
  }
  const outcomes: Array<{ events: HistoryEvent[]; error?: unknown; ended: boolean }> = [];
  const watches = branchIds.map(async (id) => {
    const outcome: (typeof outcomes)[number] = { events: [], ended: false };
    outcomes.push(outcome);
    try {
      for await (const event of client.watchExecution({ executionId: id })) outcome.events.push(event);
      outcome.ended = true;
    } catch (err) {
      outcome.error = err;
    }
  });
  // The gateway is waiting for both branches (without the fix each watch fails with NOT_FOUND).
  const waiting = await waitFor(async () => {
    if (outcomes.some((o) => o.error !== undefined || o.ended)) return "a watch ended early";
    for (const id of branchIds) if (!(await someoneReadsEventsOf(id))) return undefined;
    return "waiting";
  });
  expect({ waiting, errors: outcomes.map((o) => String(o.error)) }).toEqual({
    waiting: "waiting",
    errors: ["undefined", "undefined"],
  });

  await client.sendTaskSuccess(token, { n: 10 });
  await Promise.all(watches);
  for (const [i, id] of branchIds.entries()) {
    const outcome = outcomes[i];
    expect(outcome?.error).toBeUndefined();
    expect(outcome?.ended).toBe(true);
    const types = outcome?.events.map((e) => e.details?.$case);
    expect(types?.[0]).toBe("executionStarted");
    expect(types?.at(-1)).toBe("executionSucceeded");
    expect(outcome?.events.map((e) => e.eventId)).toEqual((await history(id)).map((e) => e.eventId));
  }
});

it("a watch of a branch id whose parent has ended is NOT_FOUND", async () => {
  const { executionId } = await branchIdsOfAFinishedRun();
  const watching = (async () => {
    for await (const _event of client.watchExecution({ executionId: `${executionId}_999_0` })) {
      // none expected
    }
  })();
  const err: unknown = await watching.catch((e: unknown) => e);
  expect(err).toBeInstanceOf(JetflowError);
  expect(err).toMatchObject({ code: Code.NOT_FOUND });
});

it("jetflow watch shows the lines of every branch of a Parallel that starts after the watch", async () => {
  const { executionId } = await client.startExecution({ workflowName: "gated", input: { n: 1 } });
  const token = await gateToken(executionId);
  const child = spawn(process.execPath, [CLI, "watch", executionId], {
    env: { PATH: process.env.PATH, JETFLOW_ADDR: fixture.engine.grpcAddress },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  const exit = new Promise<number | null>((done) => child.once("close", (code) => done(code)));
  try {
    await waitFor(() => stdout.includes("→ Gate (Task)"), { message: "the watch to show Gate" });
    await client.sendTaskSuccess(token, { n: 1 });
    expect(await exit).toBe(0);
  } finally {
    child.kill();
  }
  const lines = stdout.split("\n").map((l) => l.replace(/^ +\d+\.\d\ds {2}/, ""));
  expect(lines).toEqual(
    expect.arrayContaining([
      "→ Both (Parallel)  2 branches",
      expect.stringMatching(/^ {2}\[0\] → Inc0 \(Task\) {2}activity inc · token \S+$/),
      expect.stringMatching(/^ {2}\[0\] ✓ Inc0 {2}\S+$/),
      expect.stringMatching(/^ {2}\[1\] → Inc1 \(Task\) {2}activity inc · token \S+$/),
      expect.stringMatching(/^ {2}\[1\] ✓ Inc1 {2}\S+$/),
      expect.stringMatching(/^✔ SUCCEEDED in \S+$/),
    ]),
  );
});
