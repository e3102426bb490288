/**
 * The orchestrator against a state-manager whose loads lag the events stream (as a stream leader
 * cut off in a partition answers): a valid task result judged on such a snapshot must never be
 * acknowledged as stale. And a top-level Begin that carries its start batch: decided without a
 * load, and loaded after all when the guess it makes is refused. The state-manager here is a
 * stand-in answering on the real subjects, over a real nats-server, so the test controls exactly
 * what each load returns and sees every load and commit.
 */
import { assertValidDefinition } from "@jetflow/asl";
import {
  Command,
  CommitReply,
  CommitRequest,
  DeadLetter,
  EventBatch as EventBatchMessage,
  LoadReply,
  LoadRequest,
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
import { commandMsgIds, evolve } from "@jetflow/engine";
import { connectTo, startNatsServer, waitFor } from "@jetflow/testing";
import type { NatsServer } from "@jetflow/testing";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import type { NatsConnection, Subscription } from "@nats-io/transport-node";
import pino from "pino";
import { loadConfig } from "../src/config";
import { createOrchestrator } from "../src/orchestrator";
import { Simulator } from "@jetflow/engine/test-support";

const DEFINITION = JSON.stringify({
  StartAt: "Work",
  States: { Work: { Type: "Task", Resource: "work", End: true } },
});

let server: NatsServer | undefined;
let nc: NatsConnection | undefined;
let orchestrator: ReturnType<typeof createOrchestrator> | undefined;
let orchestratorNc: NatsConnection | undefined;
let stateManager: Subscription[] = [];
/** What the orchestrator logged, as parsed JSON lines. */
const logLines: Record<string, unknown>[] = [];

/** What the stand-in state-manager answers and what it was asked. */
const fake = {
  snapshots: new Map<string, ExecutionSnapshot>(),
  loads: new Map<string, number>(),
  commits: [] as EventBatch[],
  /** The expected sequence of each commit asked for, per execution. */
  expected: new Map<string, number[]>(),
  /**
   * The last stream sequence per execution, where the test sets one: a commit expecting another
   * is refused as a conflict, as the state-manager refuses it. Elsewhere every commit is ok.
   */
  lastSeqs: new Map<string, number>(),
};

beforeAll(async () => {
  server = await startNatsServer();
  nc = await connectTo(server.url);
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
        fake.loads.set(executionId, (fake.loads.get(executionId) ?? 0) + 1);
        msg.respond(encode(LoadReply, { snapshot: fake.snapshots.get(executionId), error: "" }));
      },
    }),
    nc.subscribe(subjects.stateCommit, {
      callback: (_err, msg) => {
        const request = decode(CommitRequest, "CommitRequest", msg.data, msg.subject);
        const id = request.batch?.executionId ?? "";
        fake.expected.set(id, [...(fake.expected.get(id) ?? []), request.expectedLastEventSeq]);
        const last = fake.lastSeqs.get(id);
        if (last !== undefined && last !== request.expectedLastEventSeq) {
          msg.respond(encode(CommitReply, { result: { $case: "conflict", value: { message: "moved on" } } }));
          return;
        }
        if (request.batch) fake.commits.push(request.batch);
        const seq = request.expectedLastEventSeq + 1;
        if (last !== undefined) fake.lastSeqs.set(id, seq);
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
      { level: process.env["TEST_LOG_LEVEL"] ?? "warn" },
      { write: (line: string) => void logLines.push(JSON.parse(line) as Record<string, unknown>) },
    ),
    // Caching off: every delivery loads, as a replica that did not make the last transition does.
    // The stand-in state-manager serves single commits (jetflow.state.commit) only.
    config: loadConfig({
      NATS_URL: server.url,
      ORCH_CACHE_ENTRIES: "0",
      ORCH_BEHIND_MAX_DELIVERIES: "4",
      ORCH_MAX_COMMIT_BATCH: "1",
    }),
  });
  await orchestrator.start();
});

afterAll(async () => {
  await orchestrator?.stop();
  await orchestratorNc?.close();
  for (const sub of stateManager) sub.unsubscribe();
  await nc?.close();
  await server?.dispose();
});

/** An execution whose task was scheduled: its full snapshot, one lagging behind, and the token. */
function scheduledExecution(executionId: string) {
  const sim = new Simulator(assertValidDefinition(DEFINITION), { work: () => ({ hang: true }) });
  sim.run({ order: 1 }, executionId);
  const { snapshot, events } = sim.get(executionId);
  const started = events.filter((e) => e.details?.$case === "executionStarted");
  const behind = evolve(undefined, { executionId, events: started, parent: undefined }, 1);
  const token = sim.dispatched[0]?.token ?? "";
  return { current: snapshot, behind, token };
}

async function sendResult(executionId: string, token: string): Promise<void> {
  const command: Command = {
    executionId,
    kind: {
      $case: "taskOutcome",
      value: {
        taskToken: token,
        outcome: { $case: "outputJson", value: '{"ok":true}' },
        workerId: "w-1",
        completedTime: new Date(),
        receivedTime: new Date(),
      },
    },
  };
  await jetstream(nc!).publish(subjects.command(executionId), encode(Command, command), {
    msgID: commandMsgIds.taskOutcome(token),
  });
}

async function commandsLeft(): Promise<number> {
  const info = await (await jetstreamManager(nc!)).consumers.info(streams.commands, consumers.commands);
  return info.num_pending + info.num_ack_pending;
}

describe("a result judged on a snapshot behind the stream", () => {
  it("is retried until a load shows its task, then applied, never acked as stale", async () => {
    const executionId = "lagging-1";
    const { current, behind, token } = scheduledExecution(executionId);
    fake.snapshots.set(executionId, {
      ...behind,
      traceParent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    });
    await sendResult(executionId, token);
    // Several deliveries, each judged on the lagging snapshot, and still not acknowledged.
    await waitFor(() => (fake.loads.get(executionId) ?? 0) >= 3, { message: "three loads" });
    expect(fake.commits.filter((b) => b.executionId === executionId)).toEqual([]);
    expect(await commandsLeft()).toBe(1);
    // Each retry says which execution, workflow, state and trace it is about.
    expect(logLines.find((l) => l["executionId"] === executionId && l["level"] === 40)).toMatchObject({
      msg: "command judged on a snapshot behind the stream; retrying it",
      workflow: "wf",
      state: "",
      traceId: "0af7651916cd43dd8448eb211c80319c",
      kind: "taskOutcome",
    });
    // The stream leader is back: the next load is current and the result is applied.
    fake.snapshots.set(executionId, current);
    const applied = await waitFor(() => fake.commits.find((b) => b.executionId === executionId), {
      message: "the result committed",
    });
    expect(applied.events.map((e) => e.details?.$case)).toContain("taskSucceeded");
    await waitFor(async () => (await commandsLeft()) === 0, { message: "the command acked" });
  });

  it("is parked with its reason when no snapshot ever shows its task", async () => {
    const executionId = "lagging-2";
    const { behind, token } = scheduledExecution(executionId);
    fake.snapshots.set(executionId, behind);
    await sendResult(executionId, token);
    const jsm = await jetstreamManager(nc!);
    const parked = await waitFor(
      async () => {
        const message = await jsm.streams.getMessage(streams.deadLetters, {
          last_by_subj: subjects.deadLetter("orchestrator"),
        });
        return message ? decode(DeadLetter, "DeadLetter", message.data, message.subject) : undefined;
      },
      { message: "a dead letter" },
    );
    expect(parked.subject).toBe(subjects.command(executionId));
    expect(parked.reason).toBe(
      `command taskOutcome refers to event 3 of execution "${executionId}", which no snapshot had after 4 deliveries`,
    );
    expect(fake.commits.filter((b) => b.executionId === executionId)).toEqual([]);
    await waitFor(async () => (await commandsLeft()) === 0, { message: "the parked command acked" });
  });
});

describe("a top-level Begin that carries its start batch", () => {
  /** The start batch of `executionId` as the api-gateway appends it, and its encoded bytes. */
  function startOf(executionId: string) {
    const sim = new Simulator(assertValidDefinition(DEFINITION), { work: () => ({ hang: true }) });
    sim.run({ order: 1 }, executionId);
    const { snapshot, events } = sim.get(executionId);
    const batch: EventBatch = {
      executionId,
      events: events.filter((e) => e.details?.$case === "executionStarted"),
      parent: undefined,
    };
    return { batch, bytes: encode(EventBatchMessage, batch), scheduled: snapshot };
  }

  async function sendBegin(
    executionId: string,
    startBatch: Uint8Array,
    startBatchSeq: number,
  ): Promise<void> {
    const command: Command = {
      executionId,
      kind: {
        $case: "begin",
        value: { child: undefined, startBatch: Buffer.from(startBatch), startBatchSeq },
      },
    };
    await jetstream(nc!).publish(subjects.command(executionId), encode(Command, command), {
      msgID: commandMsgIds.begin(executionId),
    });
  }

  it("is decided on the snapshot the batch folds into, without a load", async () => {
    const executionId = "carried-1";
    const { bytes } = startOf(executionId);
    await sendBegin(executionId, bytes, 7);
    const first = await waitFor(() => fake.commits.find((b) => b.executionId === executionId), {
      message: "the first transition committed",
    });
    expect(first.events.map((e) => e.details?.$case)).toEqual(["stateEntered", "taskScheduled"]);
    // Appended after the start batch's stream sequence, the one the Begin carried.
    expect(fake.expected.get(executionId)).toEqual([7]);
    expect(fake.loads.get(executionId)).toBeUndefined();
    await waitFor(async () => (await commandsLeft()) === 0, { message: "the Begin acked" });
  });

  it("is loaded after all when the execution has moved on: nothing appended twice", async () => {
    const executionId = "carried-2";
    const { bytes, scheduled } = startOf(executionId);
    // The first transition was made already (a redelivered Begin): the stream is past the start.
    fake.snapshots.set(executionId, scheduled);
    fake.lastSeqs.set(executionId, scheduled.lastEventSeq);
    await sendBegin(executionId, bytes, 1);
    await waitFor(async () => (await commandsLeft()) === 0, { message: "the Begin acked" });
    // The guess from the carried batch was refused; the load showed the Begin had been applied.
    expect(fake.expected.get(executionId)).toEqual([1]);
    expect(fake.loads.get(executionId)).toBe(1);
    expect(fake.commits.filter((b) => b.executionId === executionId)).toEqual([]);
  });
});
