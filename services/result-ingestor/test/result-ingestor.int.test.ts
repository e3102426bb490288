import {
  Command,
  DeadLetter,
  ExecutionSnapshot,
  ExecutionStatus,
  RESULT_STATE_HEADER,
  RESULT_WORKFLOW_HEADER,
  Task,
  TaskHeartbeatReply,
  TaskResult,
  bucketConfigs,
  buckets,
  consumers,
  decode,
  encode,
  streams,
  subjects,
} from "@jetflow/contracts";
import { connectTo, startNatsServer, uniqueName, waitFor } from "@jetflow/testing";
import type { NatsServer } from "@jetflow/testing";
import { createWorker } from "@jetflow/worker-sdk";
import {
  AckPolicy,
  DeliverPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  jetstream,
  jetstreamManager,
} from "@nats-io/jetstream";
import type { JetStreamClient, JetStreamManager, JsMsg } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { headers } from "@nats-io/transport-node";
import type { NatsConnection } from "@nats-io/transport-node";
import pino from "pino";
import { loadConfig } from "../src/config";
import { createResultIngestor } from "../src/nats-adapter";
import type { ResultIngestor } from "../src/nats-adapter";

/** What the ingestor logged (at debug level, whatever TEST_LOG_LEVEL says), as parsed JSON lines. */
const logLines: Record<string, unknown>[] = [];
const log = pino(
  { level: "debug", base: { service: "result-ingestor" } },
  { write: (line: string) => void logLines.push(JSON.parse(line) as Record<string, unknown>) },
);

let server: NatsServer | undefined;
let nc: NatsConnection | undefined;
let ingestorNc: NatsConnection | undefined;
let js: JetStreamClient;
let jsm: JetStreamManager;
let ingestor: ResultIngestor | undefined;
let nextEventId = 0;

beforeAll(async () => {
  server = await startNatsServer();
  nc = await connectTo(server.url);
  js = jetstream(nc);
  jsm = await jetstreamManager(nc);
  ingestorNc = await connectTo(server.url, { name: "result-ingestor" });
  ingestor = createResultIngestor({
    nc: ingestorNc,
    log,
    config: loadConfig({ RESULT_MAX_OUTPUT_BYTES: "1024" }),
  });
  await ingestor.start();
});

afterAll(async () => {
  await ingestor?.stop();
  await ingestorNc?.close();
  await nc?.close();
  await server?.dispose();
});

function newToken(): { executionId: string; token: string } {
  const executionId = uniqueName("exec");
  return { executionId, token: `${executionId}.${++nextEventId}` };
}

function result(token: string, outcome: TaskResult["outcome"]): Uint8Array {
  return encode(TaskResult, { taskToken: token, outcome, workerId: "w-1", completedTime: new Date() });
}

/** Reads (and acks) the next `count` commands of one execution with a consumer of the test's own. */
async function readCommands(executionId: string, count = 1): Promise<{ command: Command; msg: JsMsg }[]> {
  const name = uniqueName("commands");
  await jsm.consumers.add(streams.commands, {
    durable_name: name,
    filter_subject: subjects.command(executionId),
    ack_policy: AckPolicy.Explicit,
  });
  const consumer = await js.consumers.get(streams.commands, name);
  const read: { command: Command; msg: JsMsg }[] = [];
  await waitFor(
    async () => {
      const batch = await consumer.fetch({ max_messages: count - read.length, expires: 1_000 });
      for await (const msg of batch) {
        read.push({ command: decode(Command, "Command", msg.data, msg.subject), msg });
        msg.ack();
      }
      return read.length >= count;
    },
    { timeoutMs: 60_000, message: `${count} commands of "${executionId}"` },
  );
  return read;
}

/** Every dead letter parked by the result-ingestor for messages received on `subject`. */
async function deadLettersFor(subject: string): Promise<DeadLetter[]> {
  const name = uniqueName("letters");
  await jsm.consumers.add(streams.deadLetters, {
    durable_name: name,
    filter_subject: subjects.deadLetter("result-ingestor"),
    deliver_policy: DeliverPolicy.All,
    ack_policy: AckPolicy.None,
  });
  const consumer = await js.consumers.get(streams.deadLetters, name);
  const letters: DeadLetter[] = [];
  const pending = (await consumer.info()).num_pending;
  if (pending === 0) return letters;
  const batch = await consumer.fetch({ max_messages: pending, expires: 2_000 });
  for await (const msg of batch) {
    const letter = decode(DeadLetter, "DeadLetter", msg.data, msg.subject);
    if (letter.subject === subject) letters.push(letter);
  }
  return letters;
}

async function resultsDrained(): Promise<boolean> {
  const info = await jsm.consumers.info(streams.results, consumers.results);
  return info.num_pending === 0 && info.num_ack_pending === 0;
}

function outcomeOf(command: Command | undefined) {
  if (command?.kind?.$case !== "taskOutcome")
    throw new Error(`not a task outcome: ${JSON.stringify(command)}`);
  return command.kind.value;
}

test("forwards a result to its execution as a TaskOutcome command, de-duplicated by token", async () => {
  // Ready once its durable consumer answered the first pull (asynchronous after start()).
  await waitFor(() => ingestor?.ready() === true, { timeoutMs: 30_000, message: "the ingestor is ready" });
  const { executionId, token } = newToken();
  const completedTime = new Date("2025-06-01T12:00:00.000Z");
  const publishedAfterMs = Date.now();
  await js.publish(
    subjects.result("charge"),
    encode(TaskResult, {
      taskToken: token,
      outcome: { $case: "outputJson", value: '{"charged":42}' },
      workerId: "w-7",
      completedTime,
    }),
  );

  const [read] = await readCommands(executionId);
  expect(read?.msg.headers?.get("Nats-Msg-Id")).toBe(`r.${token}`);
  expect(read?.command).toEqual({
    executionId,
    kind: {
      $case: "taskOutcome",
      value: {
        taskToken: token,
        outcome: { $case: "outputJson", value: '{"charged":42}' },
        workerId: "w-7",
        completedTime,
        // When the results stream stored it (the server's clock, on this same machine).
        receivedTime: expect.any(Date),
      },
    },
  });
  const kind = read?.command.kind;
  const receivedMs = kind?.$case === "taskOutcome" ? (kind.value.receivedTime?.getTime() ?? 0) : 0;
  expect(receivedMs).toBeGreaterThanOrEqual(publishedAfterMs - 1000);
  expect(receivedMs).toBeLessThanOrEqual(Date.now());
  await waitFor(resultsDrained);
});

test("makes one command of a result published twice", async () => {
  const { executionId, token } = newToken();
  const before = ingestor?.stats().duplicates ?? 0;
  const bytes = result(token, { $case: "outputJson", value: "1" });
  // Without a msg id both copies land in the results stream, as after a worker's retried publish
  // outside the duplicate window.
  await js.publish(subjects.result("twice"), bytes);
  await js.publish(subjects.result("twice"), bytes);

  await waitFor(() => (ingestor?.stats().duplicates ?? 0) > before);
  await waitFor(resultsDrained);
  const info = await jsm.streams.info(streams.commands, { subjects_filter: subjects.command(executionId) });
  expect(info.state.subjects?.[subjects.command(executionId)]).toBe(1);
  expect(await readCommands(executionId)).toHaveLength(1);
});

test("turns output that is not JSON or too large into failures the execution can catch", async () => {
  const notJson = newToken();
  const tooLarge = newToken();
  await js.publish(subjects.result("bad"), result(notJson.token, { $case: "outputJson", value: "{oops" }));
  await js.publish(
    subjects.result("bad"),
    result(tooLarge.token, { $case: "outputJson", value: JSON.stringify("x".repeat(2_000)) }),
  );

  const [first] = await readCommands(notJson.executionId);
  const failure = outcomeOf(first?.command).outcome;
  expect(failure?.$case).toBe("failure");
  if (failure?.$case !== "failure") return;
  expect(failure.value.error).toBe("States.Runtime");
  expect(failure.value.cause).toMatch(/^task output is not valid JSON: /);

  const [second] = await readCommands(tooLarge.executionId);
  expect(outcomeOf(second?.command).outcome).toEqual({
    $case: "failure",
    value: {
      error: "States.DataLimitExceeded",
      cause: "task output is 2002 bytes, more than the limit of 1024 bytes",
    },
  });
});

test("parks undecodable results and bad tokens, and keeps forwarding", async () => {
  const activity = uniqueName("junk");
  const subject = subjects.result(activity);
  const before = ingestor?.stats().deadLettered ?? 0;
  const garbage = Buffer.from([0xff, 0xff, 0xff]);
  await js.publish(subject, garbage);
  await js.publish(subject, result("no-event-id", { $case: "outputJson", value: "1" }));
  const { executionId, token } = newToken();
  await js.publish(subject, result(token, { $case: "outputJson", value: '"fine"' }));

  const [read] = await readCommands(executionId);
  expect(outcomeOf(read?.command).outcome).toEqual({ $case: "outputJson", value: '"fine"' });
  await waitFor(() => (ingestor?.stats().deadLettered ?? 0) >= before + 2);
  await waitFor(resultsDrained);

  const letters = await waitFor(async () => {
    const found = await deadLettersFor(subject);
    return found.length === 2 ? found : undefined;
  });
  expect(letters.map((l) => l.service)).toEqual(["result-ingestor", "result-ingestor"]);
  expect(letters.map((l) => l.reason).sort()).toEqual([
    `cannot decode jetflow.v1.TaskResult received on "${subject}": premature EOF`,
    'malformed task token "no-event-id"',
  ]);
  expect(letters.some((l) => Buffer.from(l.data).equals(garbage))).toBe(true);
});

test("recreates its consumer when someone deletes it, and results flow again", async () => {
  // nats-server 2.9 sometimes fails a delete racing its own ack writes ("directory not empty"): retry.
  await waitFor(() =>
    jsm.consumers.delete(streams.results, consumers.results).catch((err: unknown) => {
      if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.ConsumerNotFound) return true;
      throw err;
    }),
  );
  const { executionId, token } = newToken();
  await js.publish(subjects.result("again"), result(token, { $case: "outputJson", value: "true" }));

  const [read] = await readCommands(executionId);
  expect(outcomeOf(read?.command).outcome).toEqual({ $case: "outputJson", value: "true" });
  await waitFor(resultsDrained);
});

test("logs a forwarded result with its execution id, activity, trace id, workflow and state", async () => {
  const { executionId, token } = newToken();
  const traced = headers();
  traced.set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  // What the SDKs send: the workflow and state of the task the result answers.
  traced.set(RESULT_WORKFLOW_HEADER, "orders");
  traced.set(RESULT_STATE_HEADER, "Charge card");
  await js.publish(subjects.result("log-me"), result(token, { $case: "outputJson", value: "{}" }), {
    headers: traced,
  });
  const line = await waitFor(
    () => logLines.find((l) => l["msg"] === "task outcome forwarded" && l["executionId"] === executionId),
    { timeoutMs: 60_000, message: "the forwarded result logged" },
  );
  expect(line).toMatchObject({
    service: "result-ingestor",
    executionId,
    activity: "log-me",
    traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
    workflow: "orders",
    state: "Charge card",
    duplicate: false,
  });
});

test("logs a result without the workflow and state headers without those fields", async () => {
  // A worker written from the .proto files alone sends neither header (nor a traceparent).
  const { executionId, token } = newToken();
  await js.publish(subjects.result("log-me"), result(token, { $case: "outputJson", value: "{}" }));
  const line = await waitFor(
    () => logLines.find((l) => l["msg"] === "task outcome forwarded" && l["executionId"] === executionId),
    { timeoutMs: 60_000, message: "the forwarded result logged" },
  );
  expect(line).toMatchObject({ service: "result-ingestor", executionId, activity: "log-me" });
  expect(line).not.toHaveProperty("workflow");
  expect(line).not.toHaveProperty("state");
  expect(line).not.toHaveProperty("traceId");
});

describe("heartbeats", () => {
  function snapshot(
    executionId: string,
    status: ExecutionStatus,
    activeToken: string,
    lastEventId: number,
  ): ExecutionSnapshot {
    return {
      ...ExecutionSnapshot.fromPartial({ executionId, workflowName: "wf", status, lastEventId }),
      active: {
        name: "Work",
        enteredTime: undefined,
        inputJson: "{}",
        entryEventId: 1,
        retryCounts: [],
        attempt: 1,
        failedChildren: undefined,
        phase: {
          $case: "task",
          value: {
            taskToken: activeToken,
            activity: "beat",
            scheduledTime: undefined,
            timeoutSeconds: 0,
            heartbeatSeconds: 10,
          },
        },
      },
    };
  }

  async function heartbeat(token: string): Promise<boolean> {
    const reply = await (nc as NatsConnection).request(
      subjects.heartbeat("beat"),
      encode(TaskResult, {
        taskToken: token,
        outcome: { $case: "heartbeat", value: {} },
        workerId: "w-1",
        completedTime: new Date(),
      }),
      { timeout: 10_000 },
    );
    return decode(TaskHeartbeatReply, "TaskHeartbeatReply", reply.data, reply.subject).cancelRequested;
  }

  test("are recorded, and cancel nothing while the state-manager's bucket does not exist", async () => {
    const { token } = newToken();
    const before = Date.now();
    expect(await heartbeat(token)).toBe(false);

    const kv = await new Kvm(js).open(buckets.heartbeats);
    const entry = await kv.get(token);
    expect(entry?.string()).toMatch(/^\d+$/);
    expect(Number(entry?.string())).toBeGreaterThanOrEqual(before);
    expect(Number(entry?.string())).toBeLessThanOrEqual(Date.now());
  });

  test("tell a worker to stop unless its attempt is the running execution's active one", async () => {
    const instances = await new Kvm(js).create(buckets.instances, bucketConfigs.instances());
    const put = (s: ExecutionSnapshot) => instances.put(s.executionId, ExecutionSnapshot.encode(s).finish());
    const running = newToken();
    await put(
      snapshot(running.executionId, ExecutionStatus.EXECUTION_STATUS_RUNNING, running.token, nextEventId),
    );
    const finished = newToken();
    await put(
      snapshot(finished.executionId, ExecutionStatus.EXECUTION_STATUS_ABORTED, finished.token, nextEventId),
    );
    const retried = newToken();
    const newer = `${retried.executionId}.${nextEventId + 5}`;
    await put(
      snapshot(retried.executionId, ExecutionStatus.EXECUTION_STATUS_RUNNING, newer, nextEventId + 5),
    );

    expect(await heartbeat(running.token)).toBe(false);
    expect(await heartbeat(finished.token)).toBe(true);
    expect(await heartbeat(retried.token)).toBe(true);
    // The lines about a heartbeat name the execution, its workflow and state, read from the snapshot.
    expect(
      logLines.find((l) => l["msg"] === "heartbeat recorded" && l["executionId"] === running.executionId),
    ).toMatchObject({ workflow: "wf", state: "Work", cancelRequested: false });
    expect(await heartbeat(newer)).toBe(false);
    expect(await heartbeat(newToken().token)).toBe(true);
  });

  test("on the results stream are recorded too", async () => {
    const { token } = newToken();
    await js.publish(subjects.result("beat"), result(token, { $case: "heartbeat", value: {} }));
    const kv = await new Kvm(js).open(buckets.heartbeats);
    await waitFor(async () => (await kv.get(token))?.string().match(/^\d+$/));
    await waitFor(resultsDrained);
  });
});

test("carries a worker's result to the orchestrator's command stream", async () => {
  const activity = uniqueName("e2e");
  const worker = createWorker({
    nc: nc as NatsConnection,
    logger: log,
    handlers: { [activity]: (input: { n: number }) => ({ n: input.n + 1 }) },
  });
  await worker.start();
  try {
    const { executionId, token } = newToken();
    const task = Task.fromPartial({
      taskToken: token,
      executionId,
      activity,
      attempt: 1,
      inputJson: '{"n":1}',
      workflowName: "wf",
      stateName: "Add one",
    });
    await js.publish(subjects.task(activity), encode(Task, task), { msgID: token });

    const [read] = await readCommands(executionId);
    expect(outcomeOf(read?.command)).toMatchObject({
      taskToken: token,
      outcome: { $case: "outputJson", value: '{"n":2}' },
      workerId: worker.workerId,
    });
    // The SDK's result names the task's workflow and state, and the ingestor logs them.
    const line = await waitFor(
      () => logLines.find((l) => l["msg"] === "task outcome forwarded" && l["executionId"] === executionId),
      { timeoutMs: 60_000, message: "the forwarded result logged" },
    );
    expect(line).toMatchObject({ activity, workflow: "wf", state: "Add one" });
  } finally {
    await worker.stop();
  }
});
