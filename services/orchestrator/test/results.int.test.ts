/**
 * The orchestrator reads workers' results from JETFLOW_RESULTS itself: each is applied to its
 * execution in a committed transition before it is acknowledged; a result that is not JSON or too
 * large fails the task, one nobody can read is parked; heartbeats sent as results are recorded.
 * The state-manager here is a stand-in answering on the real subjects over a real nats-server,
 * keeping the snapshots the orchestrator commits, so the test sees every transition.
 */
import { assertValidDefinition } from "@jetflow/asl";
import {
  CommitReply,
  CommitRequest,
  DeadLetter,
  LoadReply,
  LoadRequest,
  RESULT_STATE_HEADER,
  RESULT_WORKFLOW_HEADER,
  TaskResult,
  WorkflowDefinitionRecord,
  bucketConfigs,
  buckets,
  consumers,
  decode,
  encode,
  streams,
  subjects,
} from "@jetflow/contracts";
import type { EventBatch, ExecutionSnapshot } from "@jetflow/contracts";
import { Simulator } from "@jetflow/engine/test-support";
import { connectTo, startNatsServer, uniqueName, waitFor } from "@jetflow/testing";
import type { NatsServer } from "@jetflow/testing";
import {
  AckPolicy,
  DeliverPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  jetstream,
  jetstreamManager,
} from "@nats-io/jetstream";
import type { JetStreamClient, JetStreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { headers } from "@nats-io/transport-node";
import type { NatsConnection, Subscription } from "@nats-io/transport-node";
import pino from "pino";
import { loadConfig } from "../src/config";
import { createOrchestrator } from "../src/orchestrator";

const DEFINITION = JSON.stringify({
  StartAt: "Work",
  States: { Work: { Type: "Task", Resource: "work", End: true } },
});

let server: NatsServer | undefined;
let nc: NatsConnection | undefined;
let js: JetStreamClient;
let jsm: JetStreamManager;
let orchestrator: ReturnType<typeof createOrchestrator> | undefined;
let orchestratorNc: NatsConnection | undefined;
let stateManager: Subscription[] = [];
/** What the orchestrator logged (at debug level), as parsed JSON lines. */
const logLines: Record<string, unknown>[] = [];

/** The stand-in state-manager's snapshots and every batch committed. */
const snapshots = new Map<string, ExecutionSnapshot>();
const commits: EventBatch[] = [];

beforeAll(async () => {
  server = await startNatsServer();
  nc = await connectTo(server.url);
  js = jetstream(nc);
  jsm = await jetstreamManager(nc);
  const kv = await new Kvm(nc).create(buckets.definitions, bucketConfigs.definitions());
  await kv.put(
    "wf.1",
    encode(WorkflowDefinitionRecord, {
      name: "wf",
      version: 1,
      definition: DEFINITION,
      description: "",
      createdTime: new Date(),
      sha256: "",
    }),
  );
  stateManager = [
    nc.subscribe(subjects.stateLoad, {
      callback: (_err, msg) => {
        const { executionId } = decode(LoadRequest, "LoadRequest", msg.data, msg.subject);
        msg.respond(encode(LoadReply, { snapshot: snapshots.get(executionId), error: "" }));
      },
    }),
    nc.subscribe(subjects.stateCommit, {
      callback: (_err, msg) => {
        const request = decode(CommitRequest, "CommitRequest", msg.data, msg.subject);
        const id = request.batch?.executionId ?? "";
        const seq = request.expectedLastEventSeq + 1;
        if (request.batch) commits.push(request.batch);
        if (request.snapshot) snapshots.set(id, { ...request.snapshot, lastEventSeq: seq });
        msg.respond(
          encode(CommitReply, { result: { $case: "ok", value: { eventSeq: seq, duplicate: false } } }),
        );
      },
    }),
  ];
  await nc.flush();
  orchestratorNc = await connectTo(server.url, { name: "orchestrator-under-test" });
  orchestrator = createOrchestrator({
    nc: orchestratorNc,
    log: pino(
      { level: "debug", base: { service: "orchestrator" } },
      { write: (line: string) => void logLines.push(JSON.parse(line) as Record<string, unknown>) },
    ),
    // The stand-in state-manager serves single commits (jetflow.state.commit) only.
    config: loadConfig({ NATS_URL: server.url, ORCH_MAX_OUTPUT_BYTES: "1024", ORCH_MAX_COMMIT_BATCH: "1" }),
  });
  await orchestrator.start();
  await waitFor(() => orchestrator?.ready() === true, {
    timeoutMs: 30_000,
    message: "the orchestrator is ready",
  });
});

afterAll(async () => {
  await orchestrator?.stop();
  await orchestratorNc?.close();
  for (const sub of stateManager) sub.unsubscribe();
  await nc?.close();
  await server?.dispose();
});

/** A new execution whose task was scheduled (its snapshot held by the stand-in); its task token. */
function scheduledExecution(): { executionId: string; token: string } {
  const executionId = uniqueName("exec");
  const sim = new Simulator(assertValidDefinition(DEFINITION), { work: () => ({ hang: true }) });
  sim.run({ order: 1 }, executionId);
  snapshots.set(executionId, sim.get(executionId).snapshot);
  return { executionId, token: sim.dispatched[0]?.token ?? "" };
}

function result(token: string, outcome: TaskResult["outcome"]): Uint8Array {
  return encode(TaskResult, { taskToken: token, outcome, workerId: "w-1", completedTime: new Date() });
}

/** The events committed for an execution, in order, once there are `count` batches. */
async function committed(executionId: string, count = 1): Promise<EventBatch[]> {
  return waitFor(
    () => {
      const mine = commits.filter((b) => b.executionId === executionId);
      return mine.length >= count ? mine : undefined;
    },
    { timeoutMs: 60_000, message: `${count} transitions of "${executionId}"` },
  );
}

const kinds = (batches: EventBatch[]) => batches.flatMap((b) => b.events.map((e) => e.details?.$case));

async function resultsDrained(): Promise<boolean> {
  const info = await jsm.consumers.info(streams.results, consumers.results);
  return info.num_pending === 0 && info.num_ack_pending === 0;
}

/** Every dead letter the orchestrator parked for messages received on `subject`. */
async function deadLettersFor(subject: string): Promise<DeadLetter[]> {
  const name = uniqueName("letters");
  await jsm.consumers.add(streams.deadLetters, {
    durable_name: name,
    filter_subject: subjects.deadLetter("orchestrator"),
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

test("applies a result from the results stream to its execution, and acks it after the commit", async () => {
  const { executionId, token } = scheduledExecution();
  await js.publish(subjects.result("work"), result(token, { $case: "outputJson", value: '{"charged":42}' }));
  const [batch] = await committed(executionId);
  expect(kinds([batch as EventBatch])).toEqual([
    "taskStarted",
    "taskSucceeded",
    "stateExited",
    "executionSucceeded",
  ]);
  const succeeded = batch?.events.find((e) => e.details?.$case === "taskSucceeded")?.details;
  expect(succeeded?.$case === "taskSucceeded" && succeeded.value).toEqual({
    taskToken: token,
    outputJson: '{"charged":42}',
  });
  await waitFor(resultsDrained, { timeoutMs: 30_000, message: "the result acked" });
  expect(orchestrator?.counters.results).toBeGreaterThanOrEqual(1);
});

test("makes one transition of a result published twice", async () => {
  const { executionId, token } = scheduledExecution();
  const bytes = result(token, { $case: "outputJson", value: "1" });
  // Without a msg id both copies land in the results stream, as after a worker's retried publish
  // outside the duplicate window.
  await js.publish(subjects.result("work"), bytes);
  await js.publish(subjects.result("work"), bytes);
  await committed(executionId);
  await waitFor(resultsDrained, { timeoutMs: 30_000, message: "both copies acked" });
  expect(commits.filter((b) => b.executionId === executionId)).toHaveLength(1);
});

test("fails the task when its output is not JSON or too large, so the workflow can catch it", async () => {
  const notJson = scheduledExecution();
  const tooLarge = scheduledExecution();
  await js.publish(subjects.result("work"), result(notJson.token, { $case: "outputJson", value: "{oops" }));
  await js.publish(
    subjects.result("work"),
    result(tooLarge.token, { $case: "outputJson", value: JSON.stringify("x".repeat(2_000)) }),
  );
  const failureOf = async (executionId: string) => {
    const [batch] = await committed(executionId);
    const failed = batch?.events.find((e) => e.details?.$case === "taskFailed")?.details;
    return failed?.$case === "taskFailed" ? failed.value : undefined;
  };
  const first = await failureOf(notJson.executionId);
  expect(first?.error).toBe("States.Runtime");
  expect(first?.cause).toMatch(/^task output is not valid JSON: /);
  expect(await failureOf(tooLarge.executionId)).toEqual({
    taskToken: tooLarge.token,
    error: "States.DataLimitExceeded",
    cause: "task output is 2002 bytes, more than the limit of 1024 bytes",
  });
});

test("parks undecodable results and bad tokens with their reasons, and goes on applying results", async () => {
  const activity = uniqueName("junk");
  const subject = subjects.result(activity);
  const garbage = Buffer.from([0xff, 0xff, 0xff]);
  await js.publish(subject, garbage);
  await js.publish(subject, result("no-event-id", { $case: "outputJson", value: "1" }));
  const { executionId, token } = scheduledExecution();
  await js.publish(subject, result(token, { $case: "outputJson", value: '"fine"' }));

  expect(kinds(await committed(executionId))).toContain("taskSucceeded");
  const letters = await waitFor(
    async () => {
      const found = await deadLettersFor(subject);
      return found.length === 2 ? found : undefined;
    },
    { timeoutMs: 30_000, message: "two dead letters" },
  );
  expect(letters.map((l) => l.service)).toEqual(["orchestrator", "orchestrator"]);
  expect(letters.map((l) => l.reason).sort()).toEqual([
    `cannot decode jetflow.v1.TaskResult received on "${subject}": premature EOF`,
    'malformed task token "no-event-id"',
  ]);
  expect(letters.some((l) => Buffer.from(l.data).equals(garbage))).toBe(true);
  await waitFor(resultsDrained, { timeoutMs: 30_000, message: "every result acked" });
});

test("records heartbeats that workers send on the results stream", async () => {
  const { token } = scheduledExecution();
  const before = Date.now();
  await js.publish(subjects.result("work"), result(token, { $case: "heartbeat", value: {} }));
  const kv = await new Kvm(js).open(buckets.heartbeats);
  const recorded = await waitFor(async () => (await kv.get(token))?.string(), {
    timeoutMs: 30_000,
    message: "the heartbeat recorded",
  });
  expect(Number(recorded)).toBeGreaterThanOrEqual(before - 1000);
  await waitFor(resultsDrained, { timeoutMs: 30_000, message: "the heartbeat acked" });
});

test("logs a result with its execution id, activity, trace id, and the workflow and state it names", async () => {
  const { executionId, token } = scheduledExecution();
  const traced = headers();
  traced.set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  // What the SDKs send: the workflow and state of the task the result answers.
  traced.set(RESULT_WORKFLOW_HEADER, "orders");
  traced.set(RESULT_STATE_HEADER, "Charge card");
  await js.publish(subjects.result("work"), result(token, { $case: "outputJson", value: "{}" }), {
    headers: traced,
  });
  const line = await waitFor(
    () => logLines.find((l) => l["msg"] === "task result received" && l["executionId"] === executionId),
    { timeoutMs: 60_000, message: "the result logged" },
  );
  expect(line).toMatchObject({
    service: "orchestrator",
    executionId,
    activity: "work",
    traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
    workflow: "orders",
    state: "Charge card",
  });

  // A worker written from the .proto files alone sends neither header (nor a traceparent).
  const plain = scheduledExecution();
  await js.publish(subjects.result("work"), result(plain.token, { $case: "outputJson", value: "{}" }));
  const bare = await waitFor(
    () => logLines.find((l) => l["msg"] === "task result received" && l["executionId"] === plain.executionId),
    { timeoutMs: 60_000, message: "the plain result logged" },
  );
  expect(bare).not.toHaveProperty("workflow");
  expect(bare).not.toHaveProperty("state");
  expect(bare).not.toHaveProperty("traceId");
});

test("recreates the results consumer when someone deletes it, and results flow again", async () => {
  await waitFor(() =>
    jsm.consumers.delete(streams.results, consumers.results).catch((err: unknown) => {
      if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.ConsumerNotFound) return true;
      throw err;
    }),
  );
  const { executionId, token } = scheduledExecution();
  await js.publish(subjects.result("work"), result(token, { $case: "outputJson", value: "true" }));
  expect(kinds(await committed(executionId))).toContain("taskSucceeded");
  await waitFor(resultsDrained, { timeoutMs: 30_000, message: "the result acked" });
});
