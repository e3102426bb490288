// Every route of the HTTP/JSON API and the mapping of gRPC codes to HTTP statuses, against the
// engine running as processes. The last block stops nats-server: it must stay last.
import { httpRoutes } from "@jetflow/contracts";
import { waitFor } from "@jetflow/testing";
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

async function activeToken(executionId: string): Promise<string> {
  return waitFor(async () => {
    const { body } = await get(`/v1/executions/${executionId}/history?pageSize=1000`);
    const events = body.events as { taskScheduled?: { taskToken: string } }[];
    return events.map((e) => e.taskScheduled?.taskToken).filter((t) => t !== undefined)[0];
  });
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
