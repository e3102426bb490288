/**
 * The `jetflow` binary (packages/cli/dist/main.js) against a running engine: what it prints and
 * the exit codes scripts rely on.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connectTo, freePort, waitFor } from "@jetflow/testing";
import { createWorker } from "@jetflow/worker-sdk";
import type { Worker } from "@jetflow/worker-sdk";
import type { NatsConnection } from "@nats-io/transport-node";
import { runJetflow, startEngine, testActivities } from "../src";
import type { CliRun, Engine } from "../src";

let engine: Engine;
let nc: NatsConnection;
let worker: Worker;
const dir = mkdtempSync(join(tmpdir(), "jetflow-cli-int-"));

/** Runs the jetflow CLI against the test engine. */
function jetflow(...args: string[]): Promise<CliRun> {
  return runJetflow(engine.grpcAddress, ...args);
}

function file(name: string, content: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof content === "string" ? content : JSON.stringify(content));
  return path;
}

const task = (resource: string, extra: Record<string, unknown> = {}) => ({
  Type: "Task",
  Resource: resource,
  TimeoutSeconds: 60,
  ...extra,
});

const files = {
  seq: file("seq.asl.json", {
    Comment: "two increments",
    StartAt: "One",
    States: { One: task("inc", { Next: "Two" }), Two: task("inc", { End: true }) },
  }),
  fail: file(
    "fail.asl.yaml",
    "StartAt: Boom\nStates:\n  Boom:\n    Type: Task\n    Resource: fail\n    TimeoutSeconds: 60\n    End: true\n",
  ),
  each: file("each.asl.json", {
    StartAt: "Each",
    States: {
      Each: {
        Type: "Map",
        ItemsPath: "$.items",
        MaxConcurrency: 2,
        ItemProcessor: { StartAt: "Inc", States: { Inc: task("inc", { End: true }) } },
        End: true,
      },
    },
  }),
  approve: file("approve.asl.json", {
    StartAt: "Approve",
    States: { Approve: task("cli-approval", { End: true }) },
  }),
  hang: file("hang.asl.json", { StartAt: "Hang", States: { Hang: task("hang", { End: true }) } }),
};

async function json<T>(...args: string[]): Promise<T> {
  const run = await jetflow("--json", ...args);
  if (run.code !== 0) throw new Error(`jetflow ${args.join(" ")} exited ${run.code}: ${run.stderr}`);
  return JSON.parse(run.stdout) as T;
}

async function taskTokenOf(executionId: string): Promise<string> {
  let token = "";
  await waitFor(async () => {
    const { events } = await json<{ events: Array<{ type: string; taskToken?: string }> }>(
      "history",
      executionId,
    );
    token = events.find((e) => e.type === "TaskScheduled")?.taskToken ?? "";
    return token !== "";
  });
  return token;
}

beforeAll(async () => {
  engine = await startEngine();
  nc = await connectTo(engine.natsUrl);
  worker = createWorker({ nc, handlers: testActivities });
  await worker.start();
  const registered = await jetflow("register", ...Object.values(files));
  if (registered.code !== 0) throw new Error(`register failed: ${registered.stdout}${registered.stderr}`);
});

afterAll(async () => {
  await worker?.stop();
  await nc?.close();
  await engine?.stop();
});

describe("register and workflows", () => {
  it("registers each file under its name, once per definition", async () => {
    const again = await jetflow("register", files.seq, files.fail);
    expect(again).toMatchObject({ code: 0, stderr: "" });
    expect(again.stdout).toBe(
      "✓ seq version 1 is already registered (same definition)\n✓ fail version 1 is already registered (same definition)\n",
    );
    const changed = file("seq-v2.json", { StartAt: "P", States: { P: { Type: "Pass", End: true } } });
    const renamed = await jetflow("register", "--name", "seq", changed);
    expect(renamed.stdout).toBe(`✓ registered seq version 2 from ${changed}\n`);
  });

  it("registers nothing when a definition has problems (exit 1)", async () => {
    const bad = file("bad.json", { StartAt: "Nope", States: {} });
    const run = await jetflow("register", files.approve, bad);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^✗ .*bad\.json: \d+ problems?\n/);
    expect(run.stderr).toBe("error: nothing registered: 1 definition has problems\n");
  });

  it("lists the registered workflows with their description", async () => {
    const run = await jetflow("workflows");
    expect(run.code).toBe(0);
    expect(run.stdout.split("\n")[0]).toMatch(/^NAME +VERSION +REGISTERED +DESCRIPTION$/);
    expect(run.stdout).toMatch(/\nseq +2 +\S+ \S+ *\n/);
    const listed = await json<{ workflows: Array<{ name: string; description: string }> }>("workflows");
    expect(listed.workflows.map((w) => w.name).sort()).toEqual(["approve", "each", "fail", "hang", "seq"]);
  });
});

describe("start, describe, watch, list, history", () => {
  let succeeded = "";
  let failed = "";

  it("starts an execution, waits for it and describes it (exit 0)", async () => {
    const run = await jetflow("start", "seq", "--workflow-version", "1", "--input", '{"n":1}', "--wait");
    expect(run.code).toBe(0);
    succeeded = /started seq execution (\S+)/.exec(run.stdout)?.[1] ?? "";
    expect(run.stdout).toMatch(/\nStatus +SUCCEEDED\n/);
    const described = await json<Record<string, unknown>>("describe", succeeded);
    expect(described).toMatchObject({
      executionId: succeeded,
      workflowName: "seq",
      workflowVersion: 1,
      status: "SUCCEEDED",
      input: { n: 1 },
      output: { n: 3 },
    });
  });

  it("exits 1 when the awaited execution fails, and shows the error", async () => {
    const run = await jetflow("start", "fail", "--input", '{"error":"Boom","cause":"it broke"}', "--wait");
    expect(run.code).toBe(1);
    failed = /execution (\S+)/.exec(run.stdout)?.[1] ?? "";
    expect(run.stdout).toMatch(/\nStatus +FAILED\n/);
    expect(run.stdout).toMatch(/\nError +Boom\nCause +it broke\n/);
  });

  it("watches an execution live: states entered and left, a Map's progress", async () => {
    const items = Array.from({ length: 8 }, (_, i) => ({ n: i }));
    const started = await jetflow("start", "each", "--quiet", "--input", JSON.stringify({ items }));
    const id = started.stdout.trim();
    expect(started).toMatchObject({ code: 0, stderr: "" });
    const run = await jetflow("watch", id);
    expect(run.code).toBe(0);
    const lines = run.stdout.split("\n").map((l) => l.replace(/^ +\d+\.\d\ds {2}/, ""));
    expect(lines[0]).toBe(`watching execution ${id} (Ctrl-C stops watching; the execution goes on)`);
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^▶ each v1 input \{"items":\[/),
        "→ Each (Map)  8 items, at most 2 at a time",
        "  ⧉ Each  8/8 items done, 0 failed",
        expect.stringMatching(/^✓ Each {2}\S+$/),
        expect.stringMatching(/^✔ SUCCEEDED in \S+$/),
        `  output [{"n":1},{"n":2},{"n":3},{"n":4},{"n":5},{"n":6},{"n":7},{"n":8}]`,
      ]),
    );
  });

  it("starts and watches in one command, and prints events as JSON lines for scripts", async () => {
    const run = await jetflow("start", "fail", "--watch", "--input", '{"error":"Nope"}');
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/\n +\d+\.\d\ds {2}✘ FAILED in \S+ {2}Nope: failed\n$/);
    const id = /execution (\S+)/.exec(run.stdout)?.[1] ?? "";
    const lines = (await jetflow("--json", "watch", id)).stdout.trim().split("\n");
    const events = lines.map((line) => JSON.parse(line) as { eventId: number; type: string; error?: string });
    expect(events.map((e) => e.eventId)).toEqual(events.map((_, i) => i + 1));
    expect(events.at(-1)).toMatchObject({ type: "ExecutionFailed", error: "Nope" });
  });

  it("lists executions, filtered by workflow and status", async () => {
    await waitFor(async () => {
      const listed = await json<{ executions: Array<{ executionId: string; status: string }> }>(
        "list",
        "--workflow",
        "fail",
        "--status",
        "failed",
      );
      return (
        listed.executions.some((e) => e.executionId === failed) &&
        listed.executions.every((e) => e.status === "FAILED")
      );
    });
    const run = await jetflow("list", "--workflow", "seq");
    expect(run.code).toBe(0);
    expect(run.stdout.split("\n")[0]).toMatch(/^EXECUTION +WORKFLOW +STATUS +STARTED +DURATION +NAME$/);
    expect(run.stdout).toContain(`${succeeded}  seq v1`);
  });

  it("shows an execution's history as a table and as JSON", async () => {
    const run = await jetflow("history", succeeded);
    expect(run.code).toBe(0);
    const rows = run.stdout.trim().split("\n");
    expect(rows[0]).toMatch(/^ID +TIME +EVENT +STATE +DETAILS$/);
    expect(rows[1]).toMatch(/^1 +0\.00s +ExecutionStarted +seq v1, input \{"n":1\}$/);
    expect(rows.at(-1)).toMatch(/ExecutionSucceeded +output \{"n":3\}$/);
    const { events } = await json<{ events: Array<{ type: string }> }>(
      "history",
      succeeded,
      "--reverse",
      "--limit",
      "2",
    );
    expect(events.map((e) => e.type)).toEqual(["ExecutionSucceeded", "StateExited"]);
  });
});

describe("tasks and stops", () => {
  it("completes a waiting task by its token; a second answer is not found (exit 4)", async () => {
    const id = (await jetflow("start", "approve", "-q")).stdout.trim();
    const token = await taskTokenOf(id);
    const beat = await jetflow("task", "heartbeat", token);
    expect(beat).toMatchObject({ code: 0, stdout: "♥ heartbeat recorded\n" });
    const done = await jetflow("task", "success", token, "--output", '{"approved":true}');
    expect(done).toMatchObject({ code: 0, stdout: `✓ task ${token} succeeded\n` });
    await waitFor(async () => (await json<{ status: string }>("describe", id)).status === "SUCCEEDED");
    expect(await json("describe", id)).toMatchObject({ output: { approved: true } });
    const again = await jetflow("task", "success", token);
    expect(again.code).toBe(4);
    expect(again.stderr).toMatch(/^error: /);
  });

  it("fails a waiting task with an error name", async () => {
    const id = (await jetflow("start", "approve", "-q")).stdout.trim();
    const token = await taskTokenOf(id);
    const run = await jetflow("task", "failure", token, "--error", "Rejected", "--cause", "too expensive");
    expect(run).toMatchObject({ code: 0, stdout: `✗ task ${token} failed with Rejected\n` });
    await waitFor(async () => (await json<{ status: string }>("describe", id)).status === "FAILED");
    expect(await json("describe", id)).toMatchObject({ error: "Rejected", cause: "too expensive" });
  });

  it("stops a running execution and waits until it is aborted", async () => {
    const id = (await jetflow("start", "hang", "-q")).stdout.trim();
    await taskTokenOf(id);
    const run = await jetflow("stop", id, "--error", "Operator", "--cause", "not needed", "--wait");
    expect(run).toMatchObject({ code: 0, stderr: "" });
    expect(run.stdout).toBe(`■ stop requested for execution ${id}\n  ended ABORTED\n`);
    expect(await json("describe", id)).toMatchObject({ status: "ABORTED", error: "Operator" });
  });
});

describe("exit codes", () => {
  it("exits 4 for an execution or workflow that does not exist", async () => {
    const run = await jetflow("describe", "no-such-execution");
    expect(run.code).toBe(4);
    expect(run.stderr).toMatch(/^error: .*no-such-execution/);
    expect((await jetflow("start", "no-such-workflow")).code).toBe(4);
  });

  it("exits 5 when the server refuses the request", async () => {
    expect((await jetflow("start", "seq", "--name", "once", "--input", '{"n":1}')).code).toBe(0);
    const conflict = await jetflow("start", "seq", "--name", "once", "--input", '{"n":2}');
    expect(conflict.code).toBe(5);
  });

  it("exits 3 when the API cannot be reached", async () => {
    const address = `127.0.0.1:${await freePort()}`;
    const run = await jetflow("--address", address, "--timeout", "2000", "list");
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(
      new RegExp(`^error: (cannot reach|no answer in time from) the jetflow API at ${address}: `),
    );
    expect(run.stderr).toContain("is jetflow running? ./scripts/start.sh starts it");
  });

  it("exits 2 on a usage error without calling the server", async () => {
    const run = await jetflow("start", "seq", "--input", "{broken");
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^error: --input is not valid JSON/);
  });
});
