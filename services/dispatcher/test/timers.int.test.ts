import { DeadLetter, Timer, TimerKind, buckets, encode, streams, subjects } from "@jetflow/contracts";
import type { Command } from "@jetflow/contracts";
import { commandMsgIds, taskToken, timerIds } from "@jetflow/engine";
import { connectTo, startNatsServer, uniqueName, waitFor } from "@jetflow/testing";
import type { NatsServer } from "@jetflow/testing";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { JetStreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import {
  appendBatch,
  batch,
  ensureEventsStream,
  event,
  messagesOn,
  startDispatcher,
  waitForCommands,
} from "./harness";
import type { RunningDispatcher } from "./harness";

/** How late a timer may fire on a busy machine and still pass. */
const LATE_MS = 15_000;

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

/** Appends a WaitStarted firing at `fireTime` and returns its timer id. */
async function startWait(exec: string, fireTime: Date): Promise<string> {
  const timerId = timerIds.wait(exec, 5);
  await appendBatch(
    client(),
    batch(exec, [event(exec, 5, { $case: "waitStarted", value: { timerId, fireTime } })]),
  );
  return timerId;
}

/** Waits until the timer is in the timers stream and the dispatcher has put it off at least `times`. */
async function waitUntilArmed(exec: string, running: RunningDispatcher, times = 1): Promise<void> {
  await waitFor(
    async () =>
      (await messagesOn(jsm, streams.timers, subjects.timer(exec))).length === 1 &&
      running.dispatcher.stats().timersDelayed >= times,
    { message: `timer of "${exec}" armed and delayed` },
  );
}

function firedTimer(command: Command | undefined) {
  return command?.kind?.$case === "timerFired" ? command.kind.value.timer : undefined;
}

describe("dispatcher timers", () => {
  it("fires a Wait after its delay and not before", async () => {
    const exec = uniqueName("exec");
    const fireTime = new Date(Date.now() + 1500);
    const timerId = await startWait(exec, fireTime);
    const [fired] = await waitForCommands(jsm, exec, 1, LATE_MS + 5000);
    expect(fired?.msgId).toBe(commandMsgIds.timerFired(timerId));
    expect(firedTimer(fired?.command)).toEqual({
      timerId,
      executionId: exec,
      fireTime,
      kind: TimerKind.TIMER_KIND_WAIT,
      taskToken: "",
      heartbeatSeconds: 0,
      armedBatchSeq: expect.any(Number),
    });
    expect(firedTimer(fired?.command)?.armedBatchSeq).toBeGreaterThan(0);
    expect(fired!.time.getTime()).toBeGreaterThanOrEqual(fireTime.getTime());
    expect(fired!.time.getTime()).toBeLessThan(fireTime.getTime() + LATE_MS);
    // Fired timers leave the work-queue stream.
    await waitFor(async () => (await messagesOn(jsm, streams.timers, subjects.timer(exec))).length === 0);
  });

  it("fires a task timeout armed by TaskScheduled", async () => {
    const exec = uniqueName("exec");
    const token = taskToken(exec, 3);
    const scheduledAt = new Date();
    await appendBatch(
      client(),
      batch(exec, [
        event(
          exec,
          3,
          {
            $case: "taskScheduled",
            value: {
              taskToken: token,
              activity: uniqueName("work"),
              attempt: 1,
              inputJson: "{}",
              timeoutSeconds: 1,
              heartbeatSeconds: 0,
              stateName: "Work",
              workflowName: "wf",
            },
          },
          { timestamp: scheduledAt },
        ),
      ]),
    );
    const [fired] = await waitForCommands(jsm, exec, 1, LATE_MS + 5000);
    expect(firedTimer(fired?.command)).toMatchObject({
      timerId: timerIds.taskTimeout(token),
      kind: TimerKind.TIMER_KIND_TASK_TIMEOUT,
      taskToken: token,
    });
    // One second after the deadline: the grace a result received in time has to reach the orchestrator.
    expect(fired!.time.getTime()).toBeGreaterThanOrEqual(scheduledAt.getTime() + 2000);
  });

  it("drops a due timer whose state ended, without sending a command", async () => {
    const exec = uniqueName("exec");
    const fireTime = new Date(Date.now() + 1000);
    await startWait(exec, fireTime);
    await waitUntilArmed(exec, dispatcher!);
    const staleBefore = dispatcher!.dispatcher.stats().timersStale;
    // The wait ends (here, the execution is stopped) before its timer is due.
    await appendBatch(
      client(),
      batch(exec, [event(exec, 6, { $case: "executionAborted", value: { error: "Stop", cause: "" } })]),
    );
    await waitFor(async () => (await messagesOn(jsm, streams.timers, subjects.timer(exec))).length === 0, {
      timeoutMs: LATE_MS + 5000,
      message: "stale timer acked",
    });
    expect(dispatcher!.dispatcher.stats().timersStale).toBeGreaterThan(staleBefore);
    expect(await messagesOn(jsm, streams.commands, subjects.command(exec))).toEqual([]);
  });

  it("postpones a heartbeat timeout while heartbeats are recorded", async () => {
    const exec = uniqueName("exec");
    const token = taskToken(exec, 3);
    const heartbeats = await new Kvm(client()).open(buckets.heartbeats);
    const scheduledAt = new Date();
    await appendBatch(
      client(),
      batch(exec, [
        event(
          exec,
          3,
          {
            $case: "taskScheduled",
            value: {
              taskToken: token,
              activity: uniqueName("work"),
              attempt: 1,
              inputJson: "{}",
              timeoutSeconds: 0,
              heartbeatSeconds: 1,
              stateName: "Work",
              workflowName: "wf",
            },
          },
          { timestamp: scheduledAt },
        ),
      ]),
    );
    // A worker heartbeating every 300 ms for 3 s, as the result-ingestor records it.
    let lastHeartbeatMs = 0;
    for (let beat = 0; beat < 10; beat++) {
      lastHeartbeatMs = Date.now();
      await heartbeats.put(token, String(lastHeartbeatMs));
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(await messagesOn(jsm, streams.commands, subjects.command(exec))).toEqual([]);
    }
    const [fired] = await waitForCommands(jsm, exec, 1, LATE_MS + 5000);
    expect(firedTimer(fired?.command)).toMatchObject({
      timerId: timerIds.heartbeatTimeout(token),
      kind: TimerKind.TIMER_KIND_HEARTBEAT_TIMEOUT,
      heartbeatSeconds: 1,
    });
    expect(fired!.time.getTime()).toBeGreaterThanOrEqual(lastHeartbeatMs + 1000);
  });

  it("parks malformed timers as dead letters and keeps firing the others", async () => {
    const bad = uniqueName("bad");
    const js = jetstream(client());
    await js.publish(subjects.timer(bad), new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x0f]));
    const unspecified: Timer = {
      timerId: timerIds.wait(bad, 2),
      executionId: bad,
      fireTime: new Date(),
      kind: TimerKind.TIMER_KIND_UNSPECIFIED,
      taskToken: "",
      heartbeatSeconds: 0,
      armedBatchSeq: 0,
    };
    await js.publish(subjects.timer(bad), encode(Timer, unspecified));
    const exec = uniqueName("exec");
    await startWait(exec, new Date());
    await waitForCommands(jsm, exec);
    const letters = await waitFor(async () => {
      const found = (await messagesOn(jsm, streams.deadLetters, subjects.deadLetter("dispatcher")))
        .map((m) => DeadLetter.decode(m.data))
        .filter((letter) => letter.subject === subjects.timer(bad));
      return found.length === 2 ? found : undefined;
    });
    expect(letters.map((letter) => letter.reason).sort()).toEqual([
      `cannot decode Timer received on "${subjects.timer(bad)}": cant skip wire type 7`,
      `invalid timer "${unspecified.timerId}": unknown kind 0`,
    ]);
    // Parked timers are acked: they leave the work-queue stream and never fire.
    await waitFor(async () => (await messagesOn(jsm, streams.timers, subjects.timer(bad))).length === 0);
    expect(await messagesOn(jsm, streams.commands, subjects.command(bad))).toEqual([]);
  });

  it("fires a timer armed before the dispatcher restarted", async () => {
    const exec = uniqueName("exec");
    const running = dispatcher!;
    const fireTime = new Date(Date.now() + 2000);
    await startWait(exec, fireTime);
    await waitUntilArmed(exec, running);
    await running.stop();
    dispatcher = undefined;
    dispatcher = await startDispatcher(server!.url);
    const [fired] = await waitForCommands(jsm, exec, 1, LATE_MS + 5000);
    expect(firedTimer(fired?.command)?.fireTime).toEqual(fireTime);
    expect(fired!.time.getTime()).toBeGreaterThanOrEqual(fireTime.getTime());
    expect(dispatcher.dispatcher.stats().timersFired).toBe(1);
  });

  it("fires a timer armed before nats-server restarted", async () => {
    const exec = uniqueName("exec");
    const fireTime = new Date(Date.now() + 3000);
    await startWait(exec, fireTime);
    await waitUntilArmed(exec, dispatcher!, dispatcher!.dispatcher.stats().timersDelayed + 1);
    await server!.restart();
    // A NAK delay may not survive the restart: the redelivery then waits for the ack wait (5 s here).
    const [fired] = await waitForCommands(jsm, exec, 1, 60_000);
    expect(firedTimer(fired?.command)?.fireTime).toEqual(fireTime);
    expect(fired!.time.getTime()).toBeGreaterThanOrEqual(fireTime.getTime());
  });

  it("leaves a flood of timers not yet due with the server instead of polling them", async () => {
    const running = dispatcher!;
    const before = running.dispatcher.stats().timersDelayed;
    const inAnHour = new Date(Date.now() + 3_600_000);
    const floodCount = 2000;
    for (let b = 0; b < floodCount / 100; b++) {
      const exec = uniqueName("flood");
      const events = Array.from({ length: 100 }, (_, i) =>
        event(exec, i + 1, {
          $case: "waitStarted",
          value: { timerId: timerIds.wait(exec, i + 1), fireTime: inAnHour },
        }),
      );
      await appendBatch(client(), batch(exec, events));
    }
    await waitFor(() => running.dispatcher.stats().timersDelayed >= before + floodCount, {
      message: "every flooded timer delayed once",
    });
    // A timer due in a second, armed after the flood, fires on time...
    const exec = uniqueName("exec");
    const fireTime = new Date(Date.now() + 1000);
    await startWait(exec, fireTime);
    const [fired] = await waitForCommands(jsm, exec, 1, LATE_MS + 5000);
    expect(fired!.time.getTime()).toBeLessThan(fireTime.getTime() + LATE_MS);
    // ...and meanwhile none of the flooded timers came back: each was handed out once.
    expect(running.dispatcher.stats().timersDelayed - before).toBeLessThanOrEqual(floodCount + 2);
  });
});
