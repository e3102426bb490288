/**
 * Bad input never crashes a service or blocks a queue: garbage on every subject the engine reads
 * is parked on the dead-letter stream (or answered with an error), and executions keep running.
 */
import {
  CommitReply,
  CommitRequest,
  DeadLetter,
  Task,
  TaskResult,
  decode,
  encode,
  streams,
  subjects,
} from "@jetflow/contracts";
import { evolve } from "@jetflow/engine";
import { waitFor } from "@jetflow/testing";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { checkStoredExecution, statusOf, waitForEnd } from "../src";
import { useEngine } from "./fixture";
import type { Engine } from "../src";

const fixture = useEngine();
let engine: Engine;
let nc: NatsConnection;

beforeAll(async () => {
  ({ engine, nc } = fixture);
  await engine.client.registerWorkflow({
    name: "two-steps",
    definition: JSON.stringify({
      StartAt: "A",
      States: {
        A: { Type: "Task", Resource: "inc", Next: "B" },
        B: { Type: "Task", Resource: "inc", End: true },
      },
    }),
    description: "",
  });
});

const garbage = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x0f, 0x01, 0x02]);

async function parkedBy(service: string): Promise<DeadLetter[]> {
  const jsm = await jetstreamManager(nc);
  const letters: DeadLetter[] = [];
  let seq = 0;
  for (;;) {
    const msg = await jsm.streams
      .getMessage(streams.deadLetters, { seq: seq + 1, next_by_subj: subjects.deadLetter(service) } as never)
      .catch(() => null);
    if (!msg) return letters;
    letters.push(decode(DeadLetter, "DeadLetter", msg.data, msg.subject));
    seq = msg.seq;
  }
}

async function runOne(n: number): Promise<void> {
  const { executionId } = await engine.client.startExecution({
    workflowName: "two-steps",
    workflowVersion: 0,
    inputJson: JSON.stringify({ n }),
    executionName: "",
  });
  const described = await waitForEnd(engine.client, executionId);
  expect(statusOf(described.execution?.status)).toBe("SUCCEEDED");
  expect(JSON.parse(described.outputJson)).toEqual({ n: n + 2 });
  await checkStoredExecution(nc, executionId);
}

it("parks garbage on every stream subject and keeps running executions", async () => {
  const js = jetstream(nc);
  await js.publish(subjects.task("inc"), garbage);
  await js.publish(subjects.result("inc"), garbage);
  await js.publish(subjects.command("nobody"), garbage);
  await js.publish(subjects.events("nobody"), garbage);
  await js.publish(subjects.timer("nobody"), garbage);
  // Well-formed protobuf of the wrong type: a Task where a result belongs.
  await js.publish(
    subjects.result("inc"),
    encode(Task, {
      taskToken: "not a token",
      executionId: "x",
      rootExecutionId: "x",
      stateName: "s",
      activity: "inc",
      attempt: 1,
      inputJson: "{}",
      scheduledTime: undefined,
      startToCloseDeadline: undefined,
      heartbeatIntervalSeconds: 0,
      workflowName: "w",
    }),
  );
  for (const [service, count] of [
    ["worker", 1],
    // The two bad results and the bad command: the orchestrator reads both streams.
    ["orchestrator", 3],
    ["dispatcher", 2],
  ] as const) {
    await waitFor(async () => (await parkedBy(service)).length >= count, {
      timeoutMs: 30_000,
      message: `${service} did not park its bad messages`,
    });
  }
  const letter = (await parkedBy("orchestrator")).find((l) => l.subject === subjects.command("nobody"));
  expect(letter).toMatchObject({ service: "orchestrator", subject: subjects.command("nobody") });
  expect(Buffer.from(letter?.data ?? []).equals(Buffer.from(garbage))).toBe(true);
  await runOne(1);
});

it("answers a malformed state-manager request with an error and keeps serving", async () => {
  const reply = await nc.request(subjects.stateCommit, garbage, { timeout: 10_000 });
  const decoded = decode(CommitReply, "CommitReply", reply.data, subjects.stateCommit);
  expect(decoded.result?.$case).toBe("error");
  await runOne(10);
});

it("drops results for unknown executions without blocking", async () => {
  const js = jetstream(nc);
  // A well-formed result for an execution that does not exist.
  await js.publish(
    subjects.result("inc"),
    encode(TaskResult, {
      taskToken: "no-such-execution.3",
      outcome: { $case: "outputJson", value: "{}" },
      workerId: "test",
      completedTime: new Date(),
    }),
  );
  await runOne(20);
  for (const service of [
    "state-manager",
    "orchestrator",
    "dispatcher",
    "result-ingestor",
    "api-gateway",
  ] as const) {
    expect(engine.services[service].every((p) => p.running)).toBe(true);
  }
});

it("parks a command whose decision keeps failing instead of retrying it forever", async () => {
  // An execution whose snapshot names a machine that is not in its definition: every decision
  // about it throws. Written as the api-gateway would, through the state-manager.
  const executionId = "poisoned-execution";
  const batch = {
    executionId,
    parent: undefined,
    events: [
      {
        eventId: 1,
        executionId,
        timestamp: new Date(),
        stateName: "",
        details: {
          $case: "executionStarted" as const,
          value: {
            workflowName: "two-steps",
            workflowVersion: 1,
            inputJson: "{}",
            executionName: "",
            machinePath: '[["NoSuchState",0]]',
            parent: undefined,
            rootExecutionId: executionId,
            timeoutSeconds: 0,
            timeoutTimerId: "",
            redriveCount: 0,
            scheduleId: "",
          },
        },
      },
    ],
  };
  const request = { batch, expectedLastEventSeq: 0, snapshot: evolve(undefined, batch, 0) };
  const reply = await nc.request(subjects.stateCommit, encode(CommitRequest, request), { timeout: 10_000 });
  expect(decode(CommitReply, "CommitReply", reply.data, subjects.stateCommit).result?.$case).toBe("ok");
  // The dispatcher sends its Begin; the orchestrator fails on it five times, then parks it.
  await waitFor(
    async () =>
      (await parkedBy("orchestrator")).some((letter) => letter.subject === subjects.command(executionId)),
    { timeoutMs: 60_000, message: "the poisoned command was not parked" },
  );
  const letter = (await parkedBy("orchestrator")).find((l) => l.subject === subjects.command(executionId));
  expect(letter?.reason).toContain('machine path "[[\\"NoSuchState\\",0]]" is invalid');
  // Other executions were never held up.
  await runOne(30);
});
