/**
 * The result-ingestor answers workers' heartbeats: it records each and tells the worker whether
 * its attempt was cancelled, judged on the execution as the state-manager loads it (a stand-in
 * here; e2e/test/states.int.test.ts has the real one, with a stored snapshot behind the history). (Results themselves are read by the orchestrators: see
 * services/orchestrator/test/results.int.test.ts.)
 */
import {
  ExecutionSnapshot,
  ExecutionStatus,
  LoadReply,
  LoadRequest,
  TaskHeartbeatReply,
  TaskResult,
  buckets,
  decode,
  encode,
  subjects,
} from "@jetflow/contracts";
import { connectTo, startNatsServer, uniqueName } from "@jetflow/testing";
import type { NatsServer } from "@jetflow/testing";
import { jetstream } from "@nats-io/jetstream";
import type { JetStreamClient } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
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
let ingestor: ResultIngestor | undefined;
let nextEventId = 0;

beforeAll(async () => {
  server = await startNatsServer();
  nc = await connectTo(server.url);
  js = jetstream(nc);
  ingestorNc = await connectTo(server.url, { name: "result-ingestor" });
  ingestor = createResultIngestor({
    nc: ingestorNc,
    log,
    config: loadConfig({}),
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

  test("are recorded, and cancel nothing while no state-manager answers", async () => {
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
    // A stand-in state-manager: the ingestor asks it for the execution as of its last event.
    const loaded = new Map<string, ExecutionSnapshot>();
    const stateManager = (nc as NatsConnection).subscribe(subjects.stateLoad, {
      callback: (_err, msg) => {
        const { executionId } = decode(LoadRequest, "LoadRequest", msg.data, msg.subject);
        msg.respond(encode(LoadReply, { snapshot: loaded.get(executionId), error: "" }));
      },
    });
    await (nc as NatsConnection).flush();
    const put = (s: ExecutionSnapshot) => loaded.set(s.executionId, s);
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
    stateManager.unsubscribe();
  });
});
