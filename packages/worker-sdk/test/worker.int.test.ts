import {
  DeadLetter,
  RESULT_STATE_HEADER,
  RESULT_WORKFLOW_HEADER,
  Task,
  TaskCancellation,
  TaskHeartbeatReply,
  TaskResult,
  WorkerPresence,
  consumers,
  decode,
  encode,
  ensureStream,
  streamConfigs,
  streams,
  subjects,
} from "@jetflow/contracts";
import { connectTo, startNatsServer, uniqueName, waitFor } from "@jetflow/testing";
import type { NatsServer } from "@jetflow/testing";
import { TaskAbortedError, createWorker, runWorker } from "@jetflow/worker-sdk";
import type { Logger, TaskContext, Worker, WorkerOptions } from "@jetflow/worker-sdk";
import { AckPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { JetStreamClient, JetStreamManager } from "@nats-io/jetstream";
import type { MsgHdrs, NatsConnection } from "@nats-io/transport-node";

let server: NatsServer | undefined;
let nc: NatsConnection;
let js: JetStreamClient;
let jsm: JetStreamManager;
const workers: Worker[] = [];

beforeAll(async () => {
  server = await startNatsServer();
  nc = await connectTo(server.url);
  js = jetstream(nc);
  jsm = await jetstreamManager(nc);
  // The results stream belongs to the result-ingestor, which these tests do not run.
  await ensureStream(jsm, streamConfigs.results());
});

afterEach(async () => {
  await Promise.all(workers.splice(0).map((worker) => worker.stop()));
});

afterAll(async () => {
  await nc?.close();
  await server?.dispose();
});

interface LogEntry {
  level: string;
  msg: string;
  obj: Record<string, unknown>;
}

/** A logger that keeps what the worker says, so tests can wait for it. */
function recordingLogger(): Logger & { entries: LogEntry[] } {
  const entries: LogEntry[] = [];
  const at =
    (level: string) =>
    (obj: Record<string, unknown>, msg: string): void => {
      entries.push({ level, msg, obj });
    };
  return { entries, debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}

async function startWorker(options: Omit<WorkerOptions, "nc">): Promise<Worker> {
  const worker = createWorker({ nc, ...options });
  workers.push(worker);
  await worker.start();
  return worker;
}

let scheduledEventId = 0;

/** Publishes a task the way the dispatcher does (msg id = token) and returns it. */
async function publishTask(activity: string, input: unknown, overrides: Partial<Task> = {}): Promise<Task> {
  const executionId = uniqueName("exec");
  const task: Task = {
    taskToken: `${executionId}.${++scheduledEventId}`,
    executionId,
    stateName: "Work",
    activity,
    attempt: 1,
    inputJson: JSON.stringify(input),
    scheduledTime: new Date(),
    startToCloseDeadline: undefined,
    heartbeatIntervalSeconds: 0,
    workflowName: "wf",
    rootExecutionId: executionId,
    ...overrides,
  };
  await js.publish(subjects.task(activity), encode(Task, task), { msgID: task.taskToken });
  return task;
}

/** Reads (and acks) `count` results of `activity`, with their headers, with a consumer of the test's own. */
async function readResultMessages(
  activity: string,
  count: number,
): Promise<{ result: TaskResult; headers: MsgHdrs | undefined }[]> {
  const name = uniqueName("results");
  await jsm.consumers.add(streams.results, {
    durable_name: name,
    filter_subject: subjects.result(activity),
    ack_policy: AckPolicy.Explicit,
  });
  const consumer = await js.consumers.get(streams.results, name);
  const results: { result: TaskResult; headers: MsgHdrs | undefined }[] = [];
  await waitFor(
    async () => {
      const batch = await consumer.fetch({ max_messages: count - results.length, expires: 1_000 });
      for await (const msg of batch) {
        results.push({
          result: decode(TaskResult, "TaskResult", msg.data, msg.subject),
          headers: msg.headers,
        });
        msg.ack();
      }
      return results.length >= count;
    },
    { timeoutMs: 60_000, message: `${count} results of "${activity}"` },
  );
  return results;
}

/** Reads (and acks) `count` results of `activity` with a consumer of the test's own. */
async function readResults(activity: string, count: number): Promise<TaskResult[]> {
  return (await readResultMessages(activity, count)).map(({ result }) => result);
}

function taskConsumerInfo(activity: string) {
  return jsm.consumers.info(streams.tasks, consumers.task(activity));
}

/** A promise the test resolves, to hold handlers until it says so. */
function gate(): { opened: Promise<void>; open: () => void } {
  let open = (): void => {};
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { opened, open };
}

function untilAborted(ctx: TaskContext): Promise<unknown> {
  return new Promise((resolve) => {
    if (ctx.signal.aborted) resolve(ctx.signal.reason);
    ctx.signal.addEventListener("abort", () => resolve(ctx.signal.reason), { once: true });
  });
}

function output(result: TaskResult | undefined): unknown {
  if (result?.outcome?.$case !== "outputJson") throw new Error(`not an output: ${JSON.stringify(result)}`);
  return JSON.parse(result.outcome.value);
}

function failure(result: TaskResult | undefined): { error: string; cause: string } {
  if (result?.outcome?.$case !== "failure") throw new Error(`not a failure: ${JSON.stringify(result)}`);
  return result.outcome.value;
}

test("publishes the handler's output with the task's token, then acks the task", async () => {
  const activity = uniqueName("echo");
  const worker = await startWorker({
    workerId: "worker-1",
    handlers: {
      [activity]: (input: { n: number }, ctx) => ({
        doubled: input.n * 2,
        attempt: ctx.attempt,
        executionId: ctx.executionId,
        rootExecutionId: ctx.rootExecutionId,
        stateName: ctx.stateName,
        workflowName: ctx.workflowName,
        activity: ctx.activity,
        deadline: ctx.deadline?.toISOString(),
      }),
    },
  });
  const deadline = new Date(Date.now() + 60_000);
  const task = await publishTask(
    activity,
    { n: 21 },
    { attempt: 2, startToCloseDeadline: deadline, rootExecutionId: "root-1" },
  );

  const [result] = await readResults(activity, 1);
  expect(result?.taskToken).toBe(task.taskToken);
  expect(result?.workerId).toBe(worker.workerId);
  expect(result?.completedTime).toBeInstanceOf(Date);
  expect(output(result)).toEqual({
    doubled: 42,
    attempt: 2,
    executionId: task.executionId,
    rootExecutionId: "root-1",
    stateName: "Work",
    workflowName: "wf",
    activity,
    deadline: deadline.toISOString(),
  });
  await waitFor(async () => (await taskConsumerInfo(activity)).num_ack_pending === 0);
  expect((await taskConsumerInfo(activity)).num_pending).toBe(0);
});

test("publishes each result with headers naming the task's workflow and state", async () => {
  const activity = uniqueName("named");
  await startWorker({
    handlers: {
      [activity]: (input: { fail: boolean }) => {
        if (input.fail) throw new Error("no");
        return { ok: true };
      },
    },
  });
  const succeeded = await publishTask(
    activity,
    { fail: false },
    { workflowName: "orders", stateName: "Charge card" },
  );
  const failed = await publishTask(
    activity,
    { fail: true },
    { workflowName: "orders", stateName: "Refund ✓" },
  );

  const read = await readResultMessages(activity, 2);
  const byToken = new Map(read.map(({ result, headers }) => [result.taskToken, headers]));
  for (const [task, state] of [
    [succeeded, "Charge card"],
    [failed, "Refund ✓"],
  ] as const) {
    const headers = byToken.get(task.taskToken);
    expect(headers?.get(RESULT_WORKFLOW_HEADER)).toBe("orders");
    expect(headers?.get(RESULT_STATE_HEADER)).toBe(state);
    // The msg id the server de-duplicates by is still the token.
    expect(headers?.get("Nats-Msg-Id")).toBe(task.taskToken);
  }
});

test("reports thrown errors, bad input and unserialisable output as ASL errors", async () => {
  const activity = uniqueName("errors");
  class PaymentDeclined extends Error {
    override name = "PaymentDeclined";
  }
  const ran: string[] = [];
  await startWorker({
    handlers: {
      [activity]: (input: { kind: string }) => {
        ran.push(input.kind);
        if (input.kind === "named") throw new PaymentDeclined("card expired");
        if (input.kind === "unnamed") throw new Error("disk full");
        return 10n;
      },
    },
  });
  const named = await publishTask(activity, { kind: "named" });
  const unnamed = await publishTask(activity, { kind: "unnamed" });
  const bigint = await publishTask(activity, { kind: "bigint" });
  const badInput = await publishTask(activity, null, { inputJson: "{not json" });

  const results = new Map((await readResults(activity, 4)).map((r) => [r.taskToken, r]));
  expect(failure(results.get(named.taskToken))).toEqual({ error: "PaymentDeclined", cause: "card expired" });
  expect(failure(results.get(unnamed.taskToken))).toEqual({ error: "States.TaskFailed", cause: "disk full" });
  expect(failure(results.get(bigint.taskToken))).toEqual({
    error: "States.Runtime",
    cause: "task output is not JSON-serialisable: Do not know how to serialize a BigInt",
  });
  expect(failure(results.get(badInput.taskToken)).error).toBe("States.Runtime");
  expect(failure(results.get(badInput.taskToken)).cause).toMatch(/^task input is not valid JSON: /);
  expect(ran.sort()).toEqual(["bigint", "named", "unnamed"]);
});

test("never runs more handlers at once than its concurrency, nor takes more tasks", async () => {
  const activity = uniqueName("limited");
  const hold = gate();
  let running = 0;
  let maxRunning = 0;
  await startWorker({
    concurrency: 3,
    handlers: {
      [activity]: async () => {
        running++;
        maxRunning = Math.max(maxRunning, running);
        await hold.opened;
        running--;
        return null;
      },
    },
  });
  for (let i = 0; i < 10; i++) await publishTask(activity, { i });

  await waitFor(() => running === 3);
  // The server has handed out exactly the three tasks being worked on: none sit in a client buffer.
  const info = await taskConsumerInfo(activity);
  expect(info.num_ack_pending).toBe(3);
  expect(info.num_pending).toBe(7);
  hold.open();

  expect(await readResults(activity, 10)).toHaveLength(10);
  expect(maxRunning).toBe(3);
  await waitFor(async () => (await taskConsumerInfo(activity)).num_ack_pending === 0);
});

test("does not ack a task until its result is stored in JetStream", async () => {
  const activity = uniqueName("durable");
  const logger = recordingLogger();
  let handled = 0;
  await jsm.streams.delete(streams.results);
  try {
    await startWorker({
      logger,
      handlers: {
        [activity]: () => {
          handled++;
          return "done";
        },
      },
    });
    await publishTask(activity, {});
    await waitFor(() => logger.entries.some((e) => e.msg === "result publish failed"));
    const info = await taskConsumerInfo(activity);
    expect(info.num_ack_pending).toBe(1);
    // Nothing acked: the consumer's own ack floor has not moved (its stream-sequence floor may
    // sit just below the task, on nats-server 2.11+).
    expect(info.ack_floor.consumer_seq).toBe(0);
  } finally {
    await ensureStream(jsm, streamConfigs.results());
  }
  const [result] = await readResults(activity, 1);
  expect(output(result)).toBe("done");
  await waitFor(async () => (await taskConsumerInfo(activity)).num_ack_pending === 0);
  expect(handled).toBe(1);
});

test("hands an unfinished task back on stop, and another worker completes it", async () => {
  const activity = uniqueName("handoff");
  let firstReason: unknown;
  const first = createWorker({
    nc,
    stopTimeoutMs: 200,
    handlers: {
      [activity]: async (_input: unknown, ctx) => {
        firstReason = await untilAborted(ctx);
        return "from the stopped worker";
      },
    },
  });
  workers.push(first);
  await first.start();
  const task = await publishTask(activity, {});
  await waitFor(() => first.inFlight() === 1);
  await first.stop();

  expect(firstReason).toBeInstanceOf(TaskAbortedError);
  expect((firstReason as TaskAbortedError).kind).toBe("shutdown");
  expect((firstReason as TaskAbortedError).message).toBe(
    `task "${task.taskToken}" was handed back: the worker is stopping`,
  );

  await startWorker({ handlers: { [activity]: () => "from the second worker" } });
  const [result] = await readResults(activity, 1);
  expect(result?.taskToken).toBe(task.taskToken);
  expect(output(result)).toBe("from the second worker");
  await waitFor(async () => (await taskConsumerInfo(activity)).num_ack_pending === 0);
  // The stopped worker published nothing: its handler's late return was dropped. The result read
  // above leaves the work-queue stream once its ack is applied (not at once on nats-server 2.11+);
  // a second result would stay, unread.
  await waitFor(
    async () =>
      (await jsm.streams.info(streams.results, { subjects_filter: subjects.result(activity) })).state
        .messages === 0,
    { message: "the results stream to hold no result of the stopped worker" },
  );
});

test("sends heartbeats to the heartbeat subject and fires the signal when told to stop", async () => {
  const activity = uniqueName("beating");
  const heartbeats: TaskResult[] = [];
  const responder = nc.subscribe(subjects.heartbeat(activity), {
    callback: (_err, msg) => {
      heartbeats.push(decode(TaskResult, "TaskResult", msg.data, msg.subject));
      // The first heartbeat is welcome, the second learns that the execution was stopped.
      msg.respond(encode(TaskHeartbeatReply, { cancelRequested: heartbeats.length > 1 }));
    },
  });
  try {
    await nc.flush();
    await startWorker({
      workerId: "beater",
      handlers: {
        [activity]: async (_input: unknown, ctx) => {
          await ctx.heartbeat();
          const abortedAfterFirst = ctx.signal.aborted;
          await ctx.heartbeat();
          const reason = ctx.signal.reason as TaskAbortedError;
          return { abortedAfterFirst, abortedAfterSecond: ctx.signal.aborted, kind: reason.kind };
        },
      },
    });
    const task = await publishTask(activity, {});

    const [result] = await readResults(activity, 1);
    expect(output(result)).toEqual({ abortedAfterFirst: false, abortedAfterSecond: true, kind: "cancelled" });
    expect(heartbeats).toHaveLength(2);
    expect(heartbeats[0]).toMatchObject({
      taskToken: task.taskToken,
      workerId: "beater",
      outcome: { $case: "heartbeat", value: {} },
    });
  } finally {
    responder.unsubscribe();
  }
});

test("fires the signal of a task named by a cancellation broadcast", async () => {
  const activity = uniqueName("cancelled");
  let started = false;
  await startWorker({
    handlers: {
      [activity]: async (_input: unknown, ctx) => {
        started = true;
        const reason = (await untilAborted(ctx)) as TaskAbortedError;
        return { kind: reason.kind, message: reason.message };
      },
    },
  });
  const task = await publishTask(activity, {});
  await waitFor(() => started);
  nc.publish(
    subjects.taskCancel(activity),
    encode(TaskCancellation, { taskTokens: ["someone-else.1", task.taskToken], reason: "execution aborted" }),
  );

  const [result] = await readResults(activity, 1);
  expect(output(result)).toEqual({
    kind: "cancelled",
    message: `task "${task.taskToken}" was cancelled: execution aborted`,
  });
});

test("fires the signal when the task's deadline passes and reports States.Timeout", async () => {
  const activity = uniqueName("deadline");
  const seen: { kind?: string; message?: string } = {};
  await startWorker({
    handlers: {
      [activity]: async (_input: unknown, ctx) => {
        const reason = (await untilAborted(ctx)) as TaskAbortedError;
        Object.assign(seen, { kind: reason.kind, message: reason.message });
        // Whatever the handler returns after the deadline, the attempt has timed out.
        return { finished: true };
      },
    },
  });
  const deadline = new Date(Date.now() + 300);
  const task = await publishTask(activity, {}, { startToCloseDeadline: deadline });

  const [result] = await readResults(activity, 1);
  const message = `task "${task.taskToken}" passed its deadline ${deadline.toISOString()}`;
  expect(seen).toEqual({ kind: "deadline", message });
  expect(result?.outcome).toEqual({ $case: "failure", value: { error: "States.Timeout", cause: message } });
});

test("parks undecodable tasks on the dead-letter subject and keeps working", async () => {
  const activity = uniqueName("garbage");
  const logger = recordingLogger();
  await startWorker({ logger, handlers: { [activity]: () => "still working" } });
  const garbage = Buffer.from([0xff, 0xff, 0xff, 0x01, 0x02]);
  await js.publish(subjects.task(activity), garbage);
  await publishTask(activity, {});

  const [result] = await readResults(activity, 1);
  expect(output(result)).toBe("still working");
  await waitFor(async () => (await taskConsumerInfo(activity)).num_ack_pending === 0);

  const stored = await jsm.streams.getMessage(streams.deadLetters, {
    last_by_subj: subjects.deadLetter("worker"),
  });
  const letter = decode(
    DeadLetter,
    "DeadLetter",
    stored?.data ?? new Uint8Array(),
    subjects.deadLetter("worker"),
  );
  expect(letter.service).toBe("worker");
  expect(letter.subject).toBe(subjects.task(activity));
  expect(Buffer.from(letter.data)).toEqual(garbage);
  expect(letter.reason).toMatch(/^cannot decode jetflow\.v1\.Task received on "jetflow\.tasks\./);
  expect(logger.entries.some((e) => e.level === "error" && e.msg === "malformed task parked")).toBe(true);
});

test("runWorker connects, works and shuts down with its own connection", async () => {
  const activity = uniqueName("main");
  const running = await runWorker(
    { [activity]: () => "ran" },
    { servers: server?.url, handleSignals: false },
  );
  try {
    await publishTask(activity, {});
    const [result] = await readResults(activity, 1);
    expect(output(result)).toBe("ran");
  } finally {
    await running.shutdown();
  }
  expect(running.nc.isClosed()).toBe(true);
});

test("recreates its task consumer when someone deletes it, says so at warn while not ready, and works on", async () => {
  const activity = uniqueName("deleted");
  const log = recordingLogger();
  const started: { worker?: Worker } = {};
  // What worker.ready() said at each warning.
  const warnings: { msg: string; obj: Record<string, unknown>; ready: boolean | undefined }[] = [];
  const warn = log.warn;
  log.warn = (obj, msg) => {
    warnings.push({ msg, obj, ready: started.worker?.ready() });
    warn(obj, msg);
  };
  const worker = await startWorker({
    logger: log,
    handlers: { [activity]: (input: { n: number }) => input.n + 1 },
  });
  await publishTask(activity, { n: 1 });
  await waitFor(async () => (await taskConsumerInfo(activity)).delivered.stream_seq > 0);
  await waitFor(async () => (await taskConsumerInfo(activity)).num_ack_pending === 0);
  started.worker = worker;
  expect(worker.ready()).toBe(true);

  await waitFor(() => jsm.consumers.delete(streams.tasks, consumers.task(activity)).catch(() => false));
  await publishTask(activity, { n: 2 });
  const results = await readResults(activity, 2);
  expect(results.map(output).sort()).toEqual([2, 3]);

  expect(warnings.find((w) => /recreating it$/.test(w.msg))).toMatchObject({
    obj: { stream: streams.tasks, consumer: consumers.task(activity) },
    ready: false,
  });
  await waitFor(() => worker.ready());
});

it("answers the presence ping with what it runs while started, and no longer once stopped", async () => {
  const [a, b] = [uniqueName("presence-a"), uniqueName("presence-b")];
  let release = (): void => {};
  const blocked = new Promise<void>((resolve) => (release = resolve));
  const worker = await startWorker({
    workerId: "presence-worker",
    concurrency: 3,
    handlers: { [a]: () => blocked, [b]: () => null },
  });
  await publishTask(a, {});
  await waitFor(() => worker.inFlight() === 1);
  const replies = await nc.requestMany(subjects.workersPing, undefined, {
    strategy: "stall",
    stall: 200,
    maxWait: 2_000,
  });
  const presences: WorkerPresence[] = [];
  for await (const msg of replies)
    presences.push(decode(WorkerPresence, "WorkerPresence", msg.data, msg.subject));
  expect(presences).toEqual([
    { workerId: "presence-worker", activities: [a, b], concurrency: 3, inFlight: 1, sdk: "typescript" },
  ]);
  release();
  await worker.stop();
  await expect(nc.request(subjects.workersPing, undefined, { timeout: 1_000 })).rejects.toThrow(
    /no responders/i,
  );
});
