import {
  DeadLetter,
  ExecutionStatus,
  Task,
  TaskCancellation,
  Timer,
  TimerKind,
  streams,
  subjects,
} from "@jetflow/contracts";
import type { ParentRef } from "@jetflow/contracts";
import { childExecutionId, childIdPrefix, commandMsgIds, taskToken, timerIds } from "@jetflow/engine";
import { connectTo, startNatsServer, uniqueName, waitFor } from "@jetflow/testing";
import type { NatsServer } from "@jetflow/testing";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { JetStreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import {
  appendBatch,
  batch,
  commandsFor,
  ensureEventsStream,
  event,
  messagesOn,
  startDispatcher,
  waitForBatchesDone,
  waitForCommands,
} from "./harness";
import type { RunningDispatcher } from "./harness";

let server: NatsServer | undefined;
let dispatcher: RunningDispatcher | undefined;
let nc: NatsConnection | undefined;
let jsm: JetStreamManager;

beforeAll(async () => {
  server = await startNatsServer();
  nc = await connectTo(server.url);
  await ensureEventsStream(nc);
  dispatcher = await startDispatcher(server.url);
  jsm = await jetstreamManager(nc);
});

afterAll(async () => {
  await dispatcher?.stop();
  await nc?.close();
  await server?.dispose();
});

function client(): NatsConnection {
  if (nc === undefined) throw new Error("no connection");
  return nc;
}

describe("dispatcher effects", () => {
  it("publishes a scheduled task once, with its timeouts armed, even when the batch comes twice", async () => {
    const exec = uniqueName("exec");
    const activity = uniqueName("charge");
    const token = taskToken(exec, 3);
    const scheduledAt = new Date(Date.now() - 1000);
    const b = batch(exec, [
      event(
        exec,
        3,
        {
          $case: "taskScheduled",
          value: {
            taskToken: token,
            activity,
            attempt: 2,
            inputJson: '{"amount":5}',
            timeoutSeconds: 3600,
            heartbeatSeconds: 600,
            stateName: "Charge",
            workflowName: "billing",
          },
        },
        { stateName: "Charge", timestamp: scheduledAt },
      ),
    ]);
    await appendBatch(client(), b);
    await appendBatch(client(), b);
    await waitForBatchesDone(jsm);

    const tasks = await messagesOn(jsm, streams.tasks, subjects.task(activity));
    expect(tasks).toHaveLength(1);
    expect(tasks[0]?.header?.get("Nats-Msg-Id")).toBe(token);
    expect(Task.decode(tasks[0]!.data)).toEqual({
      taskToken: token,
      executionId: exec,
      stateName: "Charge",
      activity,
      attempt: 2,
      inputJson: '{"amount":5}',
      scheduledTime: scheduledAt,
      startToCloseDeadline: new Date(scheduledAt.getTime() + 3_600_000),
      heartbeatIntervalSeconds: 600,
      workflowName: "billing",
      rootExecutionId: exec,
    });

    // Timers not yet due stay in the work-queue stream, NAKed with a delay. Each records the
    // stream sequence of the batch that armed it (the first copy of the batch).
    const [armedBy] = await messagesOn(jsm, streams.events, subjects.events(exec));
    const batchSeq = armedBy?.seq;
    const timers = (await messagesOn(jsm, streams.timers, subjects.timer(exec))).map((m) =>
      Timer.decode(m.data),
    );
    expect(timers).toEqual([
      {
        timerId: timerIds.taskTimeout(token),
        executionId: exec,
        fireTime: new Date(scheduledAt.getTime() + 3_600_000),
        kind: TimerKind.TIMER_KIND_TASK_TIMEOUT,
        taskToken: token,
        heartbeatSeconds: 0,
        armedBatchSeq: batchSeq,
      },
      {
        timerId: timerIds.heartbeatTimeout(token),
        executionId: exec,
        fireTime: new Date(scheduledAt.getTime() + 600_000),
        kind: TimerKind.TIMER_KIND_HEARTBEAT_TIMEOUT,
        taskToken: token,
        heartbeatSeconds: 600,
        armedBatchSeq: batchSeq,
      },
    ]);
  });

  it("begins a top-level execution and arms its execution timeout", async () => {
    const exec = uniqueName("exec");
    const startedAt = new Date();
    await appendBatch(
      client(),
      batch(exec, [
        event(
          exec,
          1,
          {
            $case: "executionStarted",
            value: {
              workflowName: "wf",
              workflowVersion: 1,
              inputJson: "{}",
              executionName: "",
              machinePath: "",
              parent: undefined,
              rootExecutionId: "",
              timeoutSeconds: 7200,
              timeoutTimerId: timerIds.executionTimeout(exec),
              redriveCount: 0,
              scheduleId: "",
            },
          },
          { timestamp: startedAt },
        ),
      ]),
    );
    const [begin] = await waitForCommands(jsm, exec);
    expect(begin?.msgId).toBe(commandMsgIds.begin(exec));
    // It carries the start batch as stored, so that the orchestrator need not load it.
    const stored = await jsm.streams.getMessage(streams.events, { last_by_subj: subjects.events(exec) });
    const { startBatch, ...rest } = begin?.command.kind?.$case === "begin" ? begin.command.kind.value : {};
    expect(rest).toEqual({ child: undefined, startBatchSeq: stored?.seq });
    expect(Buffer.from(startBatch ?? []).equals(Buffer.from(stored?.data ?? []))).toBe(true);
    const timers = await waitFor(async () => {
      const found = await messagesOn(jsm, streams.timers, subjects.timer(exec));
      return found.length > 0 ? found : undefined;
    });
    expect(Timer.decode(timers[0]!.data)).toMatchObject({
      timerId: timerIds.executionTimeout(exec),
      kind: TimerKind.TIMER_KIND_EXECUTION_TIMEOUT,
      fireTime: new Date(startedAt.getTime() + 7_200_000),
    });
  });

  it("begins each child of a Map and reports a child's end to its parent", async () => {
    const parentId = uniqueName("parent");
    const entry = 7;
    const children = [0, 1].map((i) => childExecutionId(parentId, entry, i));
    await appendBatch(
      client(),
      batch(parentId, [
        event(
          parentId,
          7,
          { $case: "mapStarted", value: { itemCount: 2, maxConcurrency: 0, toleratedFailures: 0 } },
          {
            stateName: "Items",
          },
        ),
        ...children.map((childId, index) =>
          event(
            parentId,
            8 + index,
            {
              $case: "mapIterationStarted",
              value: { index, childExecutionId: childId, inputJson: `{"i":${index}}`, redriveCount: 0 },
            },
            { stateName: "Items" },
          ),
        ),
      ]),
    );
    for (const [index, childId] of children.entries()) {
      const [begin] = await waitForCommands(jsm, childId);
      expect(begin?.msgId).toBe(commandMsgIds.begin(childId));
      expect(begin?.command).toEqual({
        executionId: childId,
        kind: {
          $case: "begin",
          value: {
            child: {
              parent: {
                executionId: parentId,
                stateName: "Items",
                index,
                entryEventId: entry,
                redriveCount: 0,
              },
              workflowName: "",
              workflowVersion: 0,
              machinePath: "",
              inputJson: `{"i":${index}}`,
              rootExecutionId: "",
              redriveCount: 0,
            },
          },
        },
      });
    }

    const parent: ParentRef = {
      executionId: parentId,
      stateName: "Items",
      index: 1,
      entryEventId: entry,
      redriveCount: 0,
    };
    const child = children[1]!;
    await appendBatch(
      client(),
      batch(
        child,
        [event(child, 5, { $case: "executionSucceeded", value: { outputJson: '"done"' } })],
        parent,
      ),
    );
    const [completed] = await waitForCommands(jsm, parentId);
    expect(completed?.msgId).toBe(commandMsgIds.childCompleted(child, 5));
    expect(completed?.command).toEqual({
      executionId: parentId,
      kind: {
        $case: "childCompleted",
        value: {
          parent,
          childExecutionId: child,
          status: ExecutionStatus.EXECUTION_STATUS_SUCCEEDED,
          outputJson: '"done"',
          error: "",
          cause: "",
        },
      },
    });
  });

  it("continues launching the children of a large Map", async () => {
    const parentId = uniqueName("parent");
    await appendBatch(
      client(),
      batch(parentId, [
        event(parentId, 30, { $case: "childLaunchPending", value: { nextIndex: 40, entryEventId: 7 } }),
      ]),
    );
    const [next] = await waitForCommands(jsm, parentId);
    expect(next?.msgId).toBe(commandMsgIds.continueChildren(parentId, 7, 40));
    expect(next?.command).toEqual({
      executionId: parentId,
      kind: { $case: "continueChildren", value: { entryEventId: 7 } },
    });
  });

  it("stops the children and tells workers to abort the task of a stopped execution", async () => {
    const exec = uniqueName("exec");
    const activity = uniqueName("slow");
    const token = taskToken(exec, 4);
    const cancellations = client().subscribe(subjects.taskCancel(activity), { max: 1 });
    await client().flush();
    await appendBatch(
      client(),
      batch(exec, [
        event(exec, 10, { $case: "executionStopRequested", value: { error: "Halt", cause: "operator" } }),
        event(exec, 11, { $case: "taskCancelled", value: { taskToken: token, activity } }),
        event(exec, 12, {
          $case: "childrenCancelled",
          value: { idPrefix: childIdPrefix(exec, 7), indices: [0, 3] },
        }),
      ]),
    );
    for (const index of [0, 3]) {
      const childId = childExecutionId(exec, 7, index);
      const [stop] = await waitForCommands(jsm, childId);
      expect(stop?.msgId).toBe(commandMsgIds.stop(childId, 12));
      expect(stop?.command).toEqual({
        executionId: childId,
        kind: { $case: "stop", value: { error: "Halt", cause: "operator" } },
      });
    }
    for await (const msg of cancellations) {
      expect(TaskCancellation.decode(msg.data)).toEqual({ taskTokens: [token], reason: "Halt: operator" });
    }
    expect(cancellations.getProcessed()).toBe(1);
  });

  it("parks garbage from an event subject as a dead letter and keeps dispatching", async () => {
    const bad = uniqueName("bad");
    const garbage = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x0f]);
    await jetstream(client()).publish(subjects.events(bad), garbage);
    const letters = await waitFor(async () => {
      const found = (await messagesOn(jsm, streams.deadLetters, subjects.deadLetter("dispatcher")))
        .map((m) => DeadLetter.decode(m.data))
        .filter((letter) => letter.subject === subjects.events(bad));
      return found.length > 0 ? found : undefined;
    });
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({ service: "dispatcher", data: Buffer.from(garbage) });
    expect(letters[0]?.reason).toMatch(
      new RegExp(`^cannot decode EventBatch received on "${subjects.events(bad)}"`),
    );

    // A decodable batch that the engine could not have written is parked too.
    const empty = uniqueName("empty");
    await appendBatch(client(), batch(empty, []));

    const exec = uniqueName("exec");
    await appendBatch(
      client(),
      batch(exec, [
        event(exec, 1, {
          $case: "executionStarted",
          value: {
            workflowName: "wf",
            workflowVersion: 1,
            inputJson: "{}",
            executionName: "",
            machinePath: "",
            parent: undefined,
            rootExecutionId: "",
            timeoutSeconds: 0,
            timeoutTimerId: "",
            redriveCount: 0,
            scheduleId: "",
          },
        }),
      ]),
    );
    await waitForCommands(jsm, exec);
    await waitForBatchesDone(jsm);
    const parked = (await messagesOn(jsm, streams.deadLetters, subjects.deadLetter("dispatcher"))).map((m) =>
      DeadLetter.decode(m.data),
    );
    expect(parked.find((letter) => letter.subject === subjects.events(empty))?.reason).toBe(
      `invalid event batch of execution "${empty}": the batch has no events`,
    );
    expect(await commandsFor(jsm, bad)).toEqual([]);
    expect(dispatcher?.dispatcher.stats().deadLetters).toBe(2);
  });
});
