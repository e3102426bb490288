// Every route of the HTTP/JSON API and the mapping of gRPC codes to HTTP statuses, against the
// engine running as processes. The last block stops nats-server: it must stay last.
import { Task, encode, httpRoutes, subjects } from "@jetflow/contracts";
import { publishDeadLetter } from "@jetflow/service-runtime";
import { waitFor } from "@jetflow/testing";
import { jetstream } from "@nats-io/jetstream";
import { useEngine } from "./fixture";

const fixture = useEngine();
const url = (path: string) => `${fixture.engine.httpUrl}${path}`;

interface Reply {
  status: number;
  body: Record<string, unknown>;
}

async function call(verb: string, path: string, body?: unknown): Promise<Reply> {
  const res = await fetch(url(path), {
    method: verb,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text === "" ? {} : (JSON.parse(text) as Record<string, unknown>) };
}

const get = (path: string) => call("GET", path);
const post = (path: string, body?: unknown) => call("POST", path, body);
const del = (path: string) => call("DELETE", path);

/** Reads a Server-Sent Events response to its end: each event's name, id and parsed data. */
async function readEvents(path: string, headers: Record<string, string> = {}) {
  const res = await fetch(url(path), { headers });
  expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
  const text = await res.text();
  return text
    .split("\n\n")
    .filter((block) => block.trim() !== "" && !block.startsWith(":"))
    .map((block) => {
      const fields = Object.fromEntries(
        block
          .split("\n")
          .map((line) => [line.slice(0, line.indexOf(":")), line.slice(line.indexOf(":") + 2)]),
      );
      return {
        event: fields.event ?? "message",
        id: fields.id,
        data: JSON.parse(fields.data ?? "null") as unknown,
      };
    });
}

const chain = JSON.stringify({
  StartAt: "A",
  States: {
    A: { Type: "Task", Resource: "inc", Next: "B" },
    B: { Type: "Task", Resource: "inc", End: true },
  },
});
// No worker serves "external": the task waits for a callback.
const external = JSON.stringify({
  StartAt: "T",
  States: { T: { Type: "Task", Resource: "external", End: true } },
});

async function waitForStatus(executionId: string, status: string): Promise<Record<string, unknown>> {
  return waitFor(async () => {
    const { body } = await get(`/v1/executions/${executionId}`);
    return (body.execution as { status?: string } | undefined)?.status === status ? body : undefined;
  });
}

/** The tokens of the tasks scheduled so far in the execution's history, oldest first. */
async function taskTokens(executionId: string): Promise<string[]> {
  const { body } = await get(`/v1/executions/${executionId}/history?pageSize=1000`);
  const events = (body.events ?? []) as { taskScheduled?: { taskToken: string } }[];
  return events.map((e) => e.taskScheduled?.taskToken).filter((t) => t !== undefined);
}

async function activeToken(executionId: string): Promise<string> {
  return waitFor(async () => (await taskTokens(executionId))[0]);
}

describe("workflows over HTTP", () => {
  it("registers, validates, gets and lists workflows in the proto3 JSON mapping", async () => {
    expect(
      await post("/v1/workflows", { name: "http-chain", definition: chain, description: "two steps" }),
    ).toEqual({
      status: 200,
      body: { name: "http-chain", version: 1, created: true },
    });
    // Identical content: the same version, and `created: false` is a default, so it is left out.
    expect(await post("/v1/workflows", { name: "http-chain", definition: chain })).toEqual({
      status: 200,
      body: { name: "http-chain", version: 1 },
    });
    const got = await get("/v1/workflows/http-chain?version=1");
    expect(got.status).toBe(200);
    expect(got.body).toMatchObject({
      workflow: { name: "http-chain", version: 1, description: "two steps", createdTime: expect.any(String) },
      definition: chain,
    });
    await post("/v1/workflows", { name: "http-external", definition: external });
    const page = await get("/v1/workflows?pageSize=1");
    expect(page.body.workflows).toHaveLength(1);
    const next = await get(`/v1/workflows?page_size=1&page_token=${String(page.body.nextPageToken)}`);
    expect(next.body.workflows).toHaveLength(1);

    expect(await post("/v1/workflows:validate", { definition: chain })).toEqual({
      status: 200,
      body: { valid: true },
    });
    const broken = await post("/v1/workflows:validate", {
      definition: "StartAt: Missing\nStates:\n  A:\n    Type: Task\n    End: true\n",
    });
    expect(broken.status).toBe(200);
    expect(broken.body.valid).toBeUndefined();
    expect(broken.body.problems).toEqual([
      {
        path: "StartAt",
        message: '"StartAt" must name a state in "States", and there is no "Missing"',
        line: 1,
        column: 1,
      },
      { path: "States.A.Resource", message: '"Resource" is required in a Task state', line: 3, column: 3 },
    ]);
  });
});

describe("executions over HTTP", () => {
  it("starts, describes, lists with filters, reads the history and watches an execution as SSE", async () => {
    const started = await post("/v1/executions", {
      workflowName: "http-chain",
      inputJson: '{"n":1}',
      executionName: "http-first",
    });
    expect(started.status).toBe(200);
    const executionId = started.body.executionId as string;
    const done = await waitForStatus(executionId, "EXECUTION_STATUS_SUCCEEDED");
    expect(done).toMatchObject({
      execution: { executionName: "http-first", workflowName: "http-chain", workflowVersion: 1 },
      inputJson: '{"n":1}',
      outputJson: '{"n":3}',
    });

    const listed = await get("/v1/executions?workflowName=http-chain&status=EXECUTION_STATUS_SUCCEEDED");
    expect((listed.body.executions as { executionId: string }[]).map((e) => e.executionId)).toEqual([
      executionId,
    ]);
    const startMs = Date.parse(String((done.execution as { startTime: string }).startTime));
    const byPrefix = await get(
      `/v1/executions?name_prefix=http-f&started_after=${new Date(startMs).toISOString()}&started_before=${new Date(startMs + 1).toISOString()}`,
    );
    expect((byPrefix.body.executions as unknown[]).length).toBe(1);
    expect((await get("/v1/executions?namePrefix=nobody")).body).toEqual({});
    expect(
      (await get(`/v1/executions?startedBefore=${new Date(startMs).toISOString()}&namePrefix=http`)).body,
    ).toEqual({});

    const history = await get(`/v1/executions/${executionId}/history?pageSize=3&reverseOrder=true`);
    const events = history.body.events as { eventId: number }[];
    expect(events.map((e) => e.eventId)).toEqual([...events.map((e) => e.eventId)].sort((a, b) => b - a));
    expect(history.body.nextPageToken).toEqual(expect.any(String));

    const watched = await readEvents(`/v1/executions/${executionId}/watch`);
    const last = watched[watched.length - 1];
    expect(last).toEqual({ event: "end", id: undefined, data: {} });
    const messages = watched.filter((e) => e.event === "message");
    expect(messages[0]).toMatchObject({ id: "1", data: { event: { eventId: 1, executionStarted: {} } } });
    expect(messages[messages.length - 1]?.data).toMatchObject({
      event: { executionSucceeded: { outputJson: '{"n":3}' } },
    });
    // An EventSource that reconnects resumes after the last event it saw.
    const resumed = await readEvents(`/v1/executions/${executionId}/watch`, { "last-event-id": "2" });
    expect(resumed[0]?.id).toBe("3");
    const fromParam = await readEvents(`/v1/executions/${executionId}/watch?fromEventId=4`);
    expect(fromParam[0]?.id).toBe("4");
  });

  it("streams the events of a running execution as they happen, and stops it", async () => {
    const { body } = await post("/v1/executions", { workflowName: "http-external" });
    const executionId = body.executionId as string;
    const watching = readEvents(`/v1/executions/${executionId}/watch`);
    await activeToken(executionId);
    const stopped = await post(`/v1/executions/${executionId}:stop`, { error: "Operator", cause: "by hand" });
    expect(stopped).toMatchObject({ status: 200, body: { stopTime: expect.any(String) } });
    const events = await watching;
    expect(events[events.length - 2]?.data).toMatchObject({
      event: { executionAborted: { error: "Operator", cause: "by hand" } },
    });
    // A second stop: FAILED_PRECONDITION is 400, with the gRPC code and message in the body.
    expect(await post(`/v1/executions/${executionId}:stop`, {})).toEqual({
      status: 400,
      body: { code: 9, message: expect.stringContaining(executionId), details: [] },
    });
  });

  it("opens a watch's event stream once it is admitted, before any event is due", async () => {
    const { body } = await post("/v1/executions", { workflowName: "http-external" });
    const executionId = body.executionId as string;
    await activeToken(executionId);
    const abort = new AbortController();
    try {
      // Nothing happens in this execution until it is stopped: the headers alone must arrive.
      const res = await fetch(url(`/v1/executions/${executionId}/watch?fromEventId=1000`), {
        signal: abort.signal,
      });
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
    } finally {
      abort.abort();
    }
    await post(`/v1/executions/${executionId}:stop`, {});
  });

  it("completes, fails and heartbeats tasks by token", async () => {
    const first = (await post("/v1/executions", { workflowName: "http-external", inputJson: "{}" })).body
      .executionId as string;
    const token = await activeToken(first);
    expect(await post("/v1/tasks:sendHeartbeat", { taskToken: token })).toEqual({ status: 200, body: {} });
    expect(await post("/v1/tasks:sendSuccess", { taskToken: token, outputJson: '{"ok":true}' })).toEqual({
      status: 200,
      body: {},
    });
    expect(await waitForStatus(first, "EXECUTION_STATUS_SUCCEEDED")).toMatchObject({
      outputJson: '{"ok":true}',
    });
    expect(await post("/v1/tasks:sendHeartbeat", { task_token: token })).toEqual({
      status: 200,
      body: { cancelRequested: true },
    });

    const second = (await post("/v1/executions", { workflowName: "http-external" })).body
      .executionId as string;
    const token2 = await activeToken(second);
    expect(
      await post("/v1/tasks:sendFailure", { taskToken: token2, error: "Rejected", cause: "no" }),
    ).toEqual({
      status: 200,
      body: {},
    });
    expect(await waitForStatus(second, "EXECUTION_STATUS_FAILED")).toMatchObject({
      error: "Rejected",
      cause: "no",
    });
  });

  it("redrives a failed execution, which runs its failed task again and succeeds", async () => {
    const executionId = (await post("/v1/executions", { workflowName: "http-external", inputJson: "{}" }))
      .body.executionId as string;
    const first = await activeToken(executionId);
    await post("/v1/tasks:sendFailure", { taskToken: first, error: "Broken", cause: "first try" });
    await waitForStatus(executionId, "EXECUTION_STATUS_FAILED");

    expect(await post(`/v1/executions/${executionId}:redrive`, {})).toEqual({
      status: 200,
      body: { redriveTime: expect.any(String), redriveCount: 1 },
    });
    const running = await waitForStatus(executionId, "EXECUTION_STATUS_RUNNING");
    expect(running.execution).toMatchObject({ redriveCount: 1 });
    // The task that failed is scheduled again, under a new token.
    const second = await waitFor(async () => (await taskTokens(executionId))[1]);
    expect(second).not.toBe(first);
    expect(await post("/v1/tasks:sendSuccess", { taskToken: second, outputJson: '{"again":true}' })).toEqual({
      status: 200,
      body: {},
    });
    expect(await waitForStatus(executionId, "EXECUTION_STATUS_SUCCEEDED")).toMatchObject({
      execution: { redriveCount: 1 },
      outputJson: '{"again":true}',
    });
    // A succeeded execution cannot be redriven: FAILED_PRECONDITION, 400.
    expect(await post(`/v1/executions/${executionId}:redrive`, {})).toEqual({
      status: 400,
      body: { code: 9, message: expect.stringContaining(executionId), details: [] },
    });
    expect(await post("/v1/executions/no-such-execution:redrive", {})).toMatchObject({
      status: 404,
      body: { code: 5 },
    });
  });
});

describe("schedules over HTTP", () => {
  it("creates, describes, lists, pauses, resumes and deletes a schedule that starts executions", async () => {
    await post("/v1/workflows", {
      name: "http-scheduled",
      definition: JSON.stringify({ StartAt: "P", States: { P: { Type: "Pass", End: true } } }),
    });
    const created = await post("/v1/schedules", {
      schedule: {
        scheduleId: "http-every-second",
        workflowName: "http-scheduled",
        inputJson: '{"from":"schedule"}',
        intervalSeconds: 1,
        overlapPolicy: "OVERLAP_POLICY_ALLOW_ALL",
        description: "over HTTP",
      },
    });
    expect(created.status).toBe(200);
    expect(created.body.schedule).toMatchObject({
      scheduleId: "http-every-second",
      workflowName: "http-scheduled",
      intervalSeconds: 1,
      overlapPolicy: "OVERLAP_POLICY_ALLOW_ALL",
      description: "over HTTP",
      createdTime: expect.any(String),
      nextFireTime: expect.any(String),
    });
    expect(await post("/v1/schedules", created.body)).toMatchObject({ status: 409, body: { code: 6 } });

    // It fires: the execution it started names it.
    const fired = await waitFor(async () => {
      const { body } = await get("/v1/schedules/http-every-second");
      const schedule = body.schedule as { startedCount?: number; lastExecutionId?: string };
      return (schedule.startedCount ?? 0) >= 1 ? schedule : undefined;
    });
    const execution = await waitForStatus(fired.lastExecutionId as string, "EXECUTION_STATUS_SUCCEEDED");
    expect(execution).toMatchObject({
      execution: { workflowName: "http-scheduled", scheduleId: "http-every-second" },
      outputJson: '{"from":"schedule"}',
    });

    const listed = await get("/v1/schedules?workflowName=http-scheduled");
    expect(listed.status).toBe(200);
    expect((listed.body.schedules as { scheduleId: string }[]).map((s) => s.scheduleId)).toEqual([
      "http-every-second",
    ]);
    expect(await get("/v1/schedules?workflowName=http-chain")).toEqual({ status: 200, body: {} });

    const paused = await post("/v1/schedules/http-every-second:pause", {});
    expect(paused.status).toBe(200);
    expect(paused.body.schedule).toMatchObject({ scheduleId: "http-every-second", paused: true });
    expect((paused.body.schedule as Record<string, unknown>).nextFireTime).toBeUndefined();
    const resumed = await post("/v1/schedules/http-every-second:resume", {});
    expect(resumed.status).toBe(200);
    expect(resumed.body.schedule).toMatchObject({
      scheduleId: "http-every-second",
      nextFireTime: expect.any(String),
    });
    expect((resumed.body.schedule as Record<string, unknown>).paused).toBeUndefined();

    expect(await del("/v1/schedules/http-every-second")).toEqual({ status: 200, body: {} });
    const gone = { code: 5, message: 'schedule "http-every-second" does not exist', details: [] };
    expect(await get("/v1/schedules/http-every-second")).toEqual({ status: 404, body: gone });
    expect(await del("/v1/schedules/http-every-second")).toEqual({ status: 404, body: gone });
    expect(await post("/v1/schedules/http-every-second:pause", {})).toEqual({ status: 404, body: gone });
  });
});

describe("engine statistics over HTTP", () => {
  it("reports activities and workflows over the window asked for", async () => {
    const stats = await get("/v1/stats?windowSeconds=600");
    expect(stats.status).toBe(200);
    expect(stats.body).toMatchObject({
      windowSeconds: 600,
      readTime: expect.any(String),
      taskCountsStartTime: expect.any(String),
    });
    // "inc" has a worker (its consumer exists) and ran the two steps of "http-first".
    const activities = stats.body.activities as { activity: string; succeeded?: number }[];
    expect(activities.find((a) => a.activity === "inc")?.succeeded).toBeGreaterThanOrEqual(2);
    const workflows = stats.body.workflows as { workflowName: string; succeeded?: number; failed?: number }[];
    expect(workflows.find((w) => w.workflowName === "http-chain")?.succeeded).toBeGreaterThanOrEqual(1);
    // "http-external" ended failed (a task failure) and aborted (stops) in the window.
    expect(workflows.find((w) => w.workflowName === "http-external")?.failed).toBeGreaterThanOrEqual(2);

    expect((await get("/v1/stats")).body.windowSeconds).toBe(300);
    expect(await get("/v1/stats?windowSeconds=100000")).toMatchObject({ status: 400, body: { code: 3 } });
  });
});

describe("dead letters over HTTP", () => {
  it("lists, shows, replays and discards parked messages, and answers 404 once they are gone", async () => {
    expect(await get("/v1/dead-letters?reasonContains=nothing-parked-says-this")).toEqual({
      status: 200,
      body: {},
    });
    const js = jetstream(fixture.nc);
    // A task of an activity no worker runs (its replay waits in JETFLOW_TASKS), and a command
    // whose bytes decode as nothing.
    const taskSubject = subjects.task("http-dl-orphan");
    const task = Task.fromPartial({
      taskToken: "http-dl.1",
      executionId: "http-dl",
      stateName: "T",
      activity: "http-dl-orphan",
      attempt: 1,
    });
    await publishDeadLetter(js, {
      service: "worker",
      subject: taskSubject,
      data: encode(Task, task),
      reason: "http test: an older worker",
      parkedTime: new Date(),
    });
    const commandSubject = subjects.command("http-dl");
    await publishDeadLetter(js, {
      service: "orchestrator",
      subject: commandSubject,
      data: new Uint8Array([1, 2]),
      reason: "http test: garbage",
      parkedTime: new Date(),
    });

    const listed = await get("/v1/dead-letters?reasonContains=http%20test&pageSize=10");
    expect(listed.status).toBe(200);
    const letters = listed.body.deadLetters as { sequence: number; service: string }[];
    expect(letters).toEqual([
      {
        sequence: expect.any(Number),
        service: "worker",
        subject: taskSubject,
        reason: "http test: an older worker",
        parkedTime: expect.any(String),
        kind: "task",
        replayable: true,
        sizeBytes: expect.any(Number),
      },
      {
        sequence: expect.any(Number),
        service: "orchestrator",
        subject: commandSubject,
        reason: "http test: garbage",
        parkedTime: expect.any(String),
        kind: "command",
        executionId: "http-dl",
        replayable: true,
        sizeBytes: 2,
      },
    ]);
    const [taskLetter, commandLetter] = letters.map((l) => l.sequence) as [number, number];
    const byService = await get(`/v1/dead-letters?service=orchestrator&subjectPrefix=${commandSubject}`);
    expect((byService.body.deadLetters as { sequence: number }[]).map((l) => l.sequence)).toEqual([
      commandLetter,
    ]);

    const shown = await get(`/v1/dead-letters/${taskLetter}`);
    expect(shown.status).toBe(200);
    expect(shown.body.deadLetter).toMatchObject({ sequence: taskLetter, kind: "task" });
    expect(JSON.parse(shown.body.payloadJson as string)).toMatchObject({
      executionId: "http-dl",
      activity: "http-dl-orphan",
    });
    expect(Buffer.from(shown.body.payload as string, "base64")).toEqual(Buffer.from(encode(Task, task)));
    const undecoded = await get(`/v1/dead-letters/${commandLetter}`);
    expect(undecoded.body).toMatchObject({ payload: "AQI=", decodeError: expect.any(String) });

    expect(await post(`/v1/dead-letters/${taskLetter}:replay`, {})).toEqual({
      status: 200,
      body: { subject: taskSubject },
    });
    expect(await post(`/v1/dead-letters/${commandLetter}:discard`, {})).toEqual({ status: 200, body: {} });
    for (const sequence of [taskLetter, commandLetter]) {
      const gone = {
        code: 5,
        message: `dead letter ${sequence} not found (replayed, discarded or expired)`,
        details: [],
      };
      expect(await get(`/v1/dead-letters/${sequence}`)).toEqual({ status: 404, body: gone });
      expect(await post(`/v1/dead-letters/${sequence}:replay`, {})).toEqual({ status: 404, body: gone });
      expect(await post(`/v1/dead-letters/${sequence}:discard`, {})).toEqual({ status: 404, body: gone });
    }
    expect(await get("/v1/dead-letters/not-a-number")).toMatchObject({ status: 400, body: { code: 3 } });
  });
});

describe("bulk operations over HTTP", () => {
  it("stops the running executions a filter matches, and describes and lists the operation", async () => {
    const ids: string[] = [];
    for (const name of ["http-bulk-1", "http-bulk-2"]) {
      const { body } = await post("/v1/executions", { workflowName: "http-external", executionName: name });
      ids.push(body.executionId as string);
    }
    for (const id of ids) await activeToken(id);
    const request = {
      filter: { workflowName: "http-external", namePrefix: "http-bulk-" },
      error: "BulkStopped",
      cause: "maintenance",
      requestId: "http-bulk-stop",
    };
    const started = await post("/v1/bulk-operations:stop", request);
    expect(started.status).toBe(200);
    expect(started.body).toMatchObject({
      created: true,
      operation: {
        operationId: expect.any(String),
        action: "BULK_ACTION_STOP",
        filter: { workflowName: "http-external", namePrefix: "http-bulk-" },
        matched: 2,
        stopError: "BulkStopped",
        stopCause: "maintenance",
        createTime: expect.any(String),
      },
    });
    const operationId = (started.body.operation as { operationId: string }).operationId;

    const completed = await waitFor(async () => {
      const { status, body } = await get(`/v1/bulk-operations/${operationId}`);
      expect(status).toBe(200);
      const op = body.operation as { state: string };
      return op.state === "BULK_OPERATION_STATE_COMPLETED" ? op : undefined;
    });
    expect(completed).toMatchObject({ operationId, matched: 2, done: 2, endTime: expect.any(String) });
    expect(completed).not.toHaveProperty("skipped");
    expect(completed).not.toHaveProperty("failed");
    for (const id of ids) {
      expect(await waitForStatus(id, "EXECUTION_STATUS_ABORTED")).toMatchObject({
        error: "BulkStopped",
        cause: "maintenance",
      });
    }

    // The same request id: the same operation, `created: false` (left out).
    const retried = await post("/v1/bulk-operations:stop", request);
    expect(retried.status).toBe(200);
    expect(retried.body.created).toBeUndefined();
    expect(retried.body.operation).toMatchObject({ operationId });

    const listed = await get("/v1/bulk-operations?pageSize=10");
    expect(listed.status).toBe(200);
    expect((listed.body.operations as { operationId: string }[]).map((o) => o.operationId)).toContain(
      operationId,
    );
    expect(await get("/v1/bulk-operations/no-such-operation")).toEqual({
      status: 404,
      body: { code: 5, message: 'bulk operation "no-such-operation" not found', details: [] },
    });
    expect(await post("/v1/bulk-operations:stop", { filter: {} })).toMatchObject({
      status: 400,
      body: { code: 3 },
    });
  });
});

describe("errors over HTTP", () => {
  it("maps INVALID_ARGUMENT to 400 with every problem, and names unknown or mistyped fields", async () => {
    const bad = await post("/v1/executions", { workflowName: "bad name!", inputJson: "{oops" });
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe(3);
    expect(String(bad.body.message).split("\n").slice(0, 2)).toEqual([
      "invalid request:",
      'workflow_name: use 1 to 80 letters, digits, "-" or "_"',
    ]);
    expect(await post("/v1/executions", { workflow: "x", inputJson: 5 })).toEqual({
      status: 400,
      body: {
        code: 3,
        message: "invalid request:\nworkflow: unknown field\ninput_json: must be a string, got 5",
        details: [],
      },
    });
    expect(await get("/v1/executions?pageSize=ten&color=red")).toEqual({
      status: 400,
      body: {
        code: 3,
        message: 'invalid request:\npage_size: must be an integer, got "ten"\ncolor: unknown query parameter',
        details: [],
      },
    });
    expect(await post("/v1/workflows", "{not json")).toMatchObject({
      status: 400,
      body: { code: 3, message: expect.stringMatching(/^invalid request:\nbody: not JSON: /) },
    });
    const definition = JSON.stringify({ StartAt: "Missing", States: { A: { Type: "Task", End: true } } });
    const invalid = await post("/v1/workflows", { name: "broken", definition });
    expect(invalid).toMatchObject({
      status: 400,
      body: { code: 3, message: expect.stringMatching(/^invalid workflow definition:\n/) },
    });
  });

  it("maps NOT_FOUND to 404, ALREADY_EXISTS to 409 and RESOURCE_EXHAUSTED to 429", async () => {
    expect(await get("/v1/workflows/nobody")).toEqual({
      status: 404,
      body: { code: 5, message: 'workflow "nobody" does not exist', details: [] },
    });
    for (const path of ["/v1/executions/no-such-execution", "/v1/executions/no-such-execution/history"]) {
      expect(await get(path)).toEqual({
        status: 404,
        body: { code: 5, message: 'execution "no-such-execution" does not exist', details: [] },
      });
    }
    const watch = await fetch(url("/v1/executions/no-such-execution/watch"));
    expect(watch.status).toBe(404);
    expect(await watch.json()).toEqual({
      code: 5,
      message: 'execution "no-such-execution" does not exist',
      details: [],
    });

    await post("/v1/executions", {
      workflowName: "http-chain",
      inputJson: '{"n":1}',
      executionName: "http-twice",
    });
    expect(
      await post("/v1/executions", {
        workflowName: "http-chain",
        inputJson: '{"n":2}',
        executionName: "http-twice",
      }),
    ).toMatchObject({ status: 409, body: { code: 6 } });

    const big = "x".repeat(300 * 1024);
    expect(
      await post("/v1/executions", { workflowName: "http-chain", inputJson: JSON.stringify({ big }) }),
    ).toMatchObject({
      status: 429,
      body: {
        code: 8,
        message: expect.stringMatching(/^input_json is \d+ bytes, more than the limit of 262144$/),
      },
    });
  });

  it("answers 404 for unknown paths and 405 for a known path with another verb", async () => {
    expect(await get("/v1/nothing")).toEqual({
      status: 404,
      body: { code: 5, message: "no route for GET /v1/nothing", details: [] },
    });
    const res = await fetch(url("/v1/workflows"), { method: "DELETE" });
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("POST, GET");
  });

  it("serves the OpenAPI document with every route of the .proto", async () => {
    const { status, body } = await get("/openapi.json");
    expect(status).toBe(200);
    expect(body.openapi).toBe("3.0.3");
    const paths = body.paths as Record<string, Record<string, { operationId: string }>>;
    const operations = Object.values(paths).flatMap((byVerb) =>
      Object.values(byVerb).map((op) => op.operationId),
    );
    expect(operations.sort()).toEqual(httpRoutes.map((r) => r.method).sort());
    expect(paths["/v1/executions/{execution_id}:stop"]?.post?.operationId).toBe("StopExecution");
  });
});

describe("over HTTP while NATS is unreachable", () => {
  it("answers 503 UNAVAILABLE, then serves again once NATS is back", async () => {
    await fixture.engine.nats.stop();
    try {
      const reply = await waitFor(
        async () => {
          const r = await get("/v1/executions/any-execution");
          return r.status === 503 ? r : undefined;
        },
        { timeoutMs: 30_000 },
      );
      expect(reply.body).toEqual({ code: 14, message: "not connected to NATS; try again", details: [] });
    } finally {
      await fixture.engine.nats.restart();
    }
    await waitFor(async () => (await get("/v1/workflows/http-chain")).status === 200, { timeoutMs: 60_000 });
  });
});
