/**
 * The dead-letter API end to end: each kind of parked message (a worker's Task, a result the
 * orchestrator parked, an orchestrator command, a dispatcher timer) is replayed once its cause
 * is fixed and its execution moves on; an event batch can only be discarded; a replay retried
 * after a crash does not publish twice.
 */
import {
  Command,
  TaskResult,
  Task,
  consumers,
  deadLetterReplayMsgId,
  decode,
  encode,
  streams,
  subjects,
} from "@jetflow/contracts";
import { publishDeadLetter } from "@jetflow/service-runtime";
import { waitFor } from "@jetflow/testing";
import { createWorker } from "@jetflow/worker-sdk";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { JetStreamClient } from "@nats-io/jetstream";
import type { ServiceError } from "@grpc/grpc-js";
import { checkStoredExecution, runJetflow, statusOf, waitForEnd } from "../src";
import type { CliRun } from "../src";
import { useEngine } from "./fixture";

const fixture = useEngine();
let js: JetStreamClient;

const oneTask = (resource: string) =>
  JSON.stringify({ StartAt: "T", States: { T: { Type: "Task", Resource: resource, End: true } } });

beforeAll(async () => {
  js = jetstream(fixture.nc);
  const { client } = fixture.engine;
  await client.registerWorkflow({ name: "dl-task", definition: oneTask("dl-held"), description: "" });
  await client.registerWorkflow({ name: "dl-result", definition: oneTask("dl-result"), description: "" });
  await client.registerWorkflow({ name: "dl-orphan", definition: oneTask("dl-orphan"), description: "" });
  await client.registerWorkflow({
    name: "dl-wait",
    definition: JSON.stringify({
      StartAt: "W",
      States: { W: { Type: "Wait", Seconds: 2, Next: "P" }, P: { Type: "Pass", Result: "woke", End: true } },
    }),
    description: "",
  });
  await client.registerWorkflow({
    name: "dl-hold",
    definition: JSON.stringify({ StartAt: "W", States: { W: { Type: "Wait", Seconds: 3600, End: true } } }),
    description: "",
  });
});

async function start(workflowName: string, input: unknown = {}): Promise<string> {
  const started = await fixture.engine.client.startExecution({
    workflowName,
    workflowVersion: 0,
    inputJson: JSON.stringify(input),
    executionName: "",
  });
  return started.executionId;
}

/** Takes the next Task of `activity` off its queue, as a worker would, and acks it. */
async function takeTask(activity: string): Promise<{ task: Task; data: Uint8Array; subject: string }> {
  const consumer = await js.consumers.get(streams.tasks, consumers.task(activity));
  const msg = await waitFor(() => consumer.next({ expires: 2000 }), {
    timeoutMs: 30_000,
    message: `no task of "${activity}"`,
  });
  const taken = { task: decode(Task, "Task", msg.data, msg.subject), data: msg.data, subject: msg.subject };
  await msg.ackAck();
  return taken;
}

/** The sequence of the newest dead letter parked by `service` on `subject`. */
async function letterOf(service: string, subject: string): Promise<number> {
  const page = await fixture.engine.client.listDeadLetters({
    service,
    subjectPrefix: subject,
    reasonContains: "",
    pageSize: 1000,
    pageToken: "",
  });
  const last = page.deadLetters[page.deadLetters.length - 1];
  if (last === undefined) throw new Error(`no dead letter of ${service} on ${subject}`);
  return last.sequence;
}

async function grpcCode(call: Promise<unknown>): Promise<number> {
  try {
    await call;
    return 0;
  } catch (err) {
    return (err as ServiceError).code;
  }
}

/** Runs the jetflow CLI against the test engine. */
function cli(...args: string[]): Promise<CliRun> {
  return runJetflow(fixture.engine.grpcAddress, ...args);
}

it("replays a Task a worker parked, once a worker can run it", async () => {
  const executionId = await start("dl-task", { n: 1 });
  const { data, subject } = await takeTask("dl-held");
  await publishDeadLetter(js, {
    service: "worker",
    subject,
    data,
    reason: 'cannot decode Task received on "jetflow.tasks.dl-held": an older worker',
    parkedTime: new Date(),
  });
  const sequence = await letterOf("worker", subject);
  const shown = await fixture.engine.client.getDeadLetter({ sequence });
  expect(shown.deadLetter).toMatchObject({ service: "worker", kind: "task", subject, replayable: true });
  expect(JSON.parse(shown.payloadJson)).toMatchObject({ executionId, activity: "dl-held" });

  // The cause fixed: a worker that runs "dl-held".
  const worker = createWorker({
    nc: fixture.nc,
    handlers: { "dl-held": (input: { n: number }) => ({ m: input.n * 10 }) },
  });
  await worker.start();
  try {
    const replayed = await fixture.engine.client.replayDeadLetter({ sequence });
    expect(replayed).toEqual({ subject, duplicate: false });
    const ended = await waitForEnd(fixture.engine.client, executionId);
    expect(statusOf(ended.execution?.status)).toBe("SUCCEEDED");
    expect(JSON.parse(ended.outputJson)).toEqual({ m: 10 });
    await checkStoredExecution(fixture.nc, executionId);
  } finally {
    await worker.stop();
  }
  // Gone from the dead letters: a second replay finds nothing.
  expect(await grpcCode(fixture.engine.client.replayDeadLetter({ sequence }))).toBe(5);
});

it("replays a worker's result the orchestrator parked", async () => {
  const executionId = await start("dl-result");
  const { task } = await takeTask("dl-result");
  const result = encode(TaskResult, {
    taskToken: task.taskToken,
    outcome: { $case: "outputJson", value: '{"done":true}' },
    workerId: "test",
    completedTime: new Date(),
  });
  const subject = subjects.result("dl-result");
  await publishDeadLetter(js, {
    service: "orchestrator",
    subject,
    data: result,
    reason: "results stream unavailable",
    parkedTime: new Date(),
  });
  const sequence = await letterOf("orchestrator", subject);
  const shown = await fixture.engine.client.getDeadLetter({ sequence });
  expect(shown.deadLetter).toMatchObject({ kind: "result", replayable: true });
  expect(JSON.parse(shown.payloadJson)).toMatchObject({
    taskToken: task.taskToken,
    outputJson: '{"done":true}',
  });

  await fixture.engine.client.replayDeadLetter({ sequence });
  const ended = await waitForEnd(fixture.engine.client, executionId);
  expect(statusOf(ended.execution?.status)).toBe("SUCCEEDED");
  expect(JSON.parse(ended.outputJson)).toEqual({ done: true });
  await checkStoredExecution(fixture.nc, executionId);
});

it("replays a command the orchestrator parked", async () => {
  const executionId = await start("dl-hold");
  await waitFor(async () => {
    const described = await fixture.engine.client.describeExecution({ executionId });
    return described.activeStates.includes("W") ? true : undefined;
  });
  const subject = subjects.command(executionId);
  const stop = encode(Command, {
    executionId,
    kind: { $case: "stop", value: { error: "Replayed", cause: "parked, then replayed" } },
  });
  await publishDeadLetter(js, {
    service: "orchestrator",
    subject,
    data: stop,
    reason: "snapshot behind the command after 60 deliveries",
    parkedTime: new Date(),
    deliveryCount: 60,
  });
  const sequence = await letterOf("orchestrator", subject);
  const shown = await fixture.engine.client.getDeadLetter({ sequence });
  expect(shown.deadLetter).toMatchObject({
    kind: "command",
    executionId,
    deliveryCount: 60,
    replayable: true,
  });

  await fixture.engine.client.replayDeadLetter({ sequence });
  const ended = await waitForEnd(fixture.engine.client, executionId);
  expect(statusOf(ended.execution?.status)).toBe("ABORTED");
  expect(ended.error).toBe("Replayed");
  await checkStoredExecution(fixture.nc, executionId);
});

it("replays a timer the dispatcher parked", async () => {
  const executionId = await start("dl-wait");
  const jsm = await jetstreamManager(fixture.nc);
  const subject = subjects.timer(executionId);
  // The Wait's timer, taken out of the timers stream as if the dispatcher had parked it.
  const stored = await waitFor(() => jsm.streams.getMessage(streams.timers, { last_by_subj: subject }), {
    timeoutMs: 30_000,
    message: "the Wait armed no timer",
  });
  await jsm.streams.deleteMessage(streams.timers, stored.seq);
  await publishDeadLetter(js, {
    service: "dispatcher",
    subject,
    data: stored.data,
    reason: "invalid timer",
    parkedTime: new Date(),
    deliveryCount: 1,
  });
  const sequence = await letterOf("dispatcher", subject);
  // Past its fire time, the execution still waits: nothing else will wake it.
  const dueAt = Date.now() + 3_000;
  await waitFor(() => (Date.now() > dueAt ? true : undefined), { timeoutMs: 10_000, intervalMs: 200 });
  const before = await fixture.engine.client.describeExecution({ executionId });
  expect(statusOf(before.execution?.status)).toBe("RUNNING");

  await fixture.engine.client.replayDeadLetter({ sequence });
  const ended = await waitForEnd(fixture.engine.client, executionId);
  expect(statusOf(ended.execution?.status)).toBe("SUCCEEDED");
  expect(JSON.parse(ended.outputJson)).toBe("woke");
  await checkStoredExecution(fixture.nc, executionId);
});

it("refuses to replay an event batch and discards it", async () => {
  const executionId = await start("dl-hold");
  const jsm = await jetstreamManager(fixture.nc);
  const subject = subjects.events(executionId);
  const stored = await waitFor(() => jsm.streams.getMessage(streams.events, { last_by_subj: subject }));
  await publishDeadLetter(js, {
    service: "dispatcher",
    subject,
    data: stored.data,
    reason: "invalid batch",
    parkedTime: new Date(),
  });
  const sequence = await letterOf("dispatcher", subject);
  const shown = await fixture.engine.client.getDeadLetter({ sequence });
  expect(shown.deadLetter).toMatchObject({ kind: "event-batch", executionId, replayable: false });
  expect(JSON.parse(shown.payloadJson)).toMatchObject({ executionId });

  let refusal: ServiceError | undefined;
  await fixture.engine.client.replayDeadLetter({ sequence }).catch((err: ServiceError) => (refusal = err));
  expect(refusal?.code).toBe(9);
  expect(refusal?.details).toBe(
    `dead letter ${sequence} cannot be replayed: it is an event batch, already in the execution's history; discard it`,
  );
  await fixture.engine.client.discardDeadLetter({ sequence });
  expect(await grpcCode(fixture.engine.client.getDeadLetter({ sequence }))).toBe(5);
  expect(await grpcCode(fixture.engine.client.discardDeadLetter({ sequence }))).toBe(5);
});

it("refuses to replay a request to the state-manager, which stays parked until discarded", async () => {
  const subject = subjects.stateLoad;
  await publishDeadLetter(js, {
    service: "state-manager",
    subject,
    data: new Uint8Array([7, 7, 7]),
    reason: "cannot decode the request",
    parkedTime: new Date(),
  });
  const sequence = await letterOf("state-manager", subject);
  const shown = await fixture.engine.client.getDeadLetter({ sequence });
  expect(shown.deadLetter).toMatchObject({
    service: "state-manager",
    kind: "state-request",
    subject,
    executionId: "",
    replayable: false,
  });

  const message = `dead letter ${sequence} cannot be replayed: a state-request message on "${subject}" has nothing to deliver it again to; discard it`;
  let refusal: ServiceError | undefined;
  await fixture.engine.client.replayDeadLetter({ sequence }).catch((err: ServiceError) => (refusal = err));
  expect(refusal?.code).toBe(9);
  expect(refusal?.details).toBe(message);
  // The CLI refuses it too (exit 5, the server said no), with the reason.
  const refused = await cli("dead-letters", "replay", String(sequence));
  expect(refused.code).toBe(5);
  expect(refused.stderr).toContain(message);
  // Refused, it is still there to discard.
  expect((await fixture.engine.client.getDeadLetter({ sequence })).deadLetter?.sequence).toBe(sequence);
  await fixture.engine.client.discardDeadLetter({ sequence });
  expect(await grpcCode(fixture.engine.client.getDeadLetter({ sequence }))).toBe(5);
});

it("replays a parked command through the CLI", async () => {
  const executionId = await start("dl-hold");
  await waitFor(async () => {
    const described = await fixture.engine.client.describeExecution({ executionId });
    return described.activeStates.includes("W") ? true : undefined;
  });
  const subject = subjects.command(executionId);
  const stop = encode(Command, {
    executionId,
    kind: { $case: "stop", value: { error: "ReplayedByCli", cause: "parked, then replayed by the CLI" } },
  });
  await publishDeadLetter(js, {
    service: "orchestrator",
    subject,
    data: stop,
    reason: "snapshot behind the command",
    parkedTime: new Date(),
  });
  const sequence = await letterOf("orchestrator", subject);

  const replayed = await cli("dead-letters", "replay", String(sequence));
  expect(replayed.code).toBe(0);
  expect(replayed.stdout).toContain(`dead letter ${sequence} replayed on ${subject}`);
  expect(replayed.stdout).not.toContain("already replayed");
  const ended = await waitForEnd(fixture.engine.client, executionId);
  expect(statusOf(ended.execution?.status)).toBe("ABORTED");
  expect(ended.error).toBe("ReplayedByCli");
  expect(ended.cause).toBe("parked, then replayed by the CLI");
  await checkStoredExecution(fixture.nc, executionId);
  // Replayed, the letter is gone: replaying it again finds nothing (exit 4).
  expect(await grpcCode(fixture.engine.client.getDeadLetter({ sequence }))).toBe(5);
  expect((await cli("dead-letters", "replay", String(sequence))).code).toBe(4);
});

it("does not publish twice when a replay is retried after it published", async () => {
  const subject = subjects.task("dl-orphan");
  const data = encode(
    Task,
    Task.fromPartial({
      taskToken: "x.1",
      executionId: "x",
      stateName: "T",
      activity: "dl-orphan",
      attempt: 1,
    }),
  );
  await publishDeadLetter(js, { service: "worker", subject, data, reason: "test", parkedTime: new Date() });
  const sequence = await letterOf("worker", subject);
  const letter = await fixture.engine.client.getDeadLetter({ sequence });
  const jsm = await jetstreamManager(fixture.nc);
  const before =
    (await jsm.streams.info(streams.tasks, { subjects_filter: subject })).state.subjects?.[subject] ?? 0;
  // A first attempt that published and died before deleting the letter.
  await js.publish(subject, data, { msgID: deadLetterReplayMsgId(sequence, letter.deadLetter?.parkedTime) });
  const retried = await fixture.engine.client.replayDeadLetter({ sequence });
  expect(retried.duplicate).toBe(true);
  const after =
    (await jsm.streams.info(streams.tasks, { subjects_filter: subject })).state.subjects?.[subject] ?? 0;
  expect(after).toBe(before + 1);
});

it("lists with filters, and the CLI lists, shows and discards", async () => {
  const subject = subjects.command("dl-cli");
  for (const reason of ["alpha reason", "beta reason", "alpha again"]) {
    await publishDeadLetter(js, {
      service: "orchestrator",
      subject,
      data: new Uint8Array([1, 2]),
      reason,
      parkedTime: new Date(),
    });
  }
  const alphas = await fixture.engine.client.listDeadLetters({
    service: "orchestrator",
    subjectPrefix: subject,
    reasonContains: "alpha",
    pageSize: 0,
    pageToken: "",
  });
  expect(alphas.deadLetters.map((l) => l.reason)).toEqual(["alpha reason", "alpha again"]);
  const paged = await fixture.engine.client.listDeadLetters({
    service: "orchestrator",
    subjectPrefix: subject,
    reasonContains: "",
    pageSize: 2,
    pageToken: "",
  });
  expect(paged.deadLetters).toHaveLength(2);
  expect(paged.nextPageToken).not.toBe("");
  const rest = await fixture.engine.client.listDeadLetters({
    service: "orchestrator",
    subjectPrefix: subject,
    reasonContains: "",
    pageSize: 2,
    pageToken: paged.nextPageToken,
  });
  expect(rest.deadLetters.map((l) => l.reason)).toEqual(["alpha again"]);
  expect(rest.nextPageToken).toBe("");

  const listed = await cli("dead-letters", "list", "--subject", subject, "--reason", "beta");
  expect(listed.code).toBe(0);
  expect(listed.stdout).toContain("beta reason");
  expect(listed.stdout).not.toContain("alpha");
  const beta = alphas.deadLetters[0]!.sequence + 1;
  const shown = await cli("dead-letters", "show", String(beta));
  expect(shown.code).toBe(0);
  expect(shown.stdout).toMatch(/Kind\s+command/);
  expect(shown.stdout).toContain("not decoded");
  const json = await cli("--json", "dead-letters", "list", "--subject", subject);
  expect((JSON.parse(json.stdout) as { deadLetters: unknown[] }).deadLetters).toHaveLength(3);
  const discarded = await cli("dead-letters", "discard", String(beta));
  expect(discarded.code).toBe(0);
  const replayMissing = await cli("dead-letters", "replay", String(beta));
  expect(replayMissing.code).not.toBe(0);
});
