/**
 * The deploy's NATS security on a real nats-server: the server runs with
 * deploy/k8s/base/nats/auth.conf (the file the Kubernetes manifests mount), every service and the
 * worker log in with their own user, executions succeed, and the worker's credentials are refused
 * everything but its own tasks. Also the runtime contract of every service process as Kubernetes
 * sees it: configuration errors at start, /healthz and /readyz, and SIGTERM.
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { Schedule, buckets, consumerConfigs, streams, subjects } from "@jetflow/contracts";
import { connectTo, startNatsServer, waitFor } from "@jetflow/testing";
import type { NatsServer } from "@jetflow/testing";
import { createWorker } from "@jetflow/worker-sdk";
import type { TaskContext, Worker } from "@jetflow/worker-sdk";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { PermissionViolationError } from "@nats-io/transport-node";
import type { NatsConnection } from "@nats-io/transport-node";
import { credentialsOf, natsAuthConfig, testPassword } from "../../deploy/test/support/nats-auth";
import {
  SERVICE_NAMES,
  checkStoredExecution,
  startEngine,
  statusOf,
  testActivities,
  waitForEnd,
} from "../src";
import type { Engine, EngineOptions, ManagedProcess } from "../src";

let nats: NatsServer;
let engine: Engine;
/** The test's own reads, as the api-gateway (which may read snapshots and histories). */
let reader: NatsConnection;
let workerNc: NatsConnection;
let worker: Worker;

const serviceCredentials: EngineOptions["serviceEnv"] = Object.fromEntries(
  SERVICE_NAMES.map((name) => [name, { NATS_USER: name, NATS_PASSWORD: testPassword(name) }]),
);
// Retention runs under the state-manager's user too: executions of "deploy-purge" expire at once.
Object.assign(serviceCredentials?.["state-manager"] ?? {}, {
  RETENTION_WORKFLOWS: "deploy-purge=1ms",
  RETENTION_INTERVAL_MS: "500",
});

beforeAll(async () => {
  nats = await startNatsServer({
    extraConfig: natsAuthConfig(),
    connectOptions: credentialsOf("state-manager"),
  });
  engine = await startEngine({ nats, serviceEnv: serviceCredentials, healthPorts: true });
  reader = await connectTo(nats.url, credentialsOf("api-gateway"));
  workerNc = await connectTo(nats.url, { ...credentialsOf("worker-examples"), name: "worker-examples" });
  worker = createWorker({
    nc: workerNc,
    // The role may run the example activities only: the test's handlers take three of their names.
    handlers: {
      "validate-order": testActivities.inc as never,
      "ship-order": testActivities["sleep-inc"] as never,
      // Heartbeats go to the result-ingestor and come back on the worker's own inbox.
      "send-notification": async (input: unknown, ctx: TaskContext) => {
        await ctx.heartbeat();
        return input;
      },
    },
    ackWaitMs: 5_000,
  });
  await worker.start();
});

afterAll(async () => {
  await worker?.stop();
  await workerNc?.close();
  await reader?.close();
  await engine?.stop();
  await nats?.dispose();
});

async function register(name: string, definition: object): Promise<void> {
  await engine.client.registerWorkflow({ name, definition: JSON.stringify(definition), description: "" });
}

async function start(workflowName: string, input: unknown, executionName = ""): Promise<string> {
  const { executionId } = await engine.client.startExecution({
    workflowName,
    workflowVersion: 0,
    inputJson: JSON.stringify(input),
    executionName,
  });
  return executionId;
}

function violationsOf(nc: NatsConnection): PermissionViolationError[] {
  const seen: PermissionViolationError[] = [];
  void (async () => {
    for await (const status of nc.status()) {
      if (status.type === "error" && status.error instanceof PermissionViolationError)
        seen.push(status.error);
    }
  })();
  return seen;
}

describe("with every service and the worker on its own NATS user", () => {
  it("runs executions of every shape to the right output", async () => {
    await register("deploy-parallel", {
      StartAt: "P",
      States: {
        P: {
          Type: "Parallel",
          Branches: [
            {
              StartAt: "A",
              States: {
                A: { Type: "Task", Resource: "validate-order", Next: "B" },
                B: { Type: "Task", Resource: "send-notification", HeartbeatSeconds: 10, End: true },
              },
            },
            { StartAt: "W", States: { W: { Type: "Wait", Seconds: 1, End: true } } },
          ],
          End: true,
        },
      },
    });
    await register("deploy-map", {
      StartAt: "M",
      States: {
        M: {
          Type: "Map",
          ItemsPath: "$.items",
          ItemProcessor: {
            StartAt: "E",
            States: { E: { Type: "Task", Resource: "send-notification", End: true } },
          },
          ResultPath: "$.mapped",
          End: true,
        },
      },
    });
    const parallel = await start("deploy-parallel", { n: 1 }, "first");
    // A named start again is answered from the history, not started twice.
    await expect(start("deploy-parallel", { n: 1 }, "first")).resolves.toBe(parallel);
    const map = await start("deploy-map", { items: [1, 2, 3] });
    const expected: Array<[string, unknown, number]> = [
      [parallel, [{ n: 2 }, { n: 1 }], 3],
      [map, { items: [1, 2, 3], mapped: [1, 2, 3] }, 4],
    ];
    for (const [executionId, output, executions] of expected) {
      const described = await waitForEnd(engine.client, executionId);
      expect(statusOf(described.execution?.status)).toBe("SUCCEEDED");
      expect(JSON.parse(described.outputJson)).toEqual(output);
      // Gapless histories that fold into the stored snapshots, children included.
      await expect(checkStoredExecution(reader, executionId)).resolves.toBe(executions);
    }
    const history = await engine.client.getExecutionHistory({
      executionId: parallel,
      pageSize: 0,
      pageToken: "",
      reverseOrder: false,
    });
    expect(history.events.map((e) => e.details?.$case)).toContain("parallelSucceeded");
    // The gateway's user may read every execution's recent transitions for the engine's stats:
    // the Map's three iterations and the Parallel branch each ran one send-notification.
    const stats = await engine.client.getEngineStats({ windowSeconds: 0 });
    expect(stats.activities.find((a) => a.activity === "send-notification")).toMatchObject({
      succeeded: 4,
      failed: 0,
      // The gateway may ping the workers, and the worker's user may answer it.
      workersConnected: 1,
    });
  });

  it("stops a running execution and cancels its task", async () => {
    await register("deploy-slow", {
      StartAt: "S",
      States: { S: { Type: "Task", Resource: "ship-order", End: true } },
    });
    const executionId = await start("deploy-slow", { n: 0, ms: 60_000 });
    await waitFor(() => worker.inFlight() > 0, { timeoutMs: 30_000 });
    await engine.client.stopExecution({ executionId, error: "Stopped", cause: "by the test" });
    const described = await waitForEnd(engine.client, executionId);
    expect(statusOf(described.execution?.status)).toBe("ABORTED");
    // The cancellation reached the worker on jetflow.cancel.<activity>: the handler was aborted.
    await waitFor(() => worker.inFlight() === 0, { timeoutMs: 30_000 });
  });

  it("redrives the stopped execution and runs a schedule under these permissions", async () => {
    await register("deploy-quick", {
      StartAt: "S",
      States: { S: { Type: "Task", Resource: "ship-order", End: true } },
    });
    const executionId = await start("deploy-quick", { n: 0, ms: 60_000 });
    await waitFor(() => worker.inFlight() > 0, { timeoutMs: 30_000 });
    await engine.client.stopExecution({ executionId, error: "Stopped", cause: "by the test" });
    await waitForEnd(engine.client, executionId);
    await engine.client.redriveExecution({ executionId });
    await waitFor(
      async () =>
        (await engine.client.describeExecution({ executionId })).execution?.redriveCount === 1
          ? true
          : undefined,
      { timeoutMs: 30_000, message: "the redrive was not applied" },
    );
    await engine.client.stopExecution({ executionId, error: "Stopped", cause: "again" });
    expect(statusOf((await waitForEnd(engine.client, executionId)).execution?.status)).toBe("ABORTED");

    await engine.client.createSchedule({
      schedule: Schedule.fromPartial({
        scheduleId: "deploy-every-second",
        workflowName: "deploy-quick",
        inputJson: '{"n":0,"ms":1}',
        intervalSeconds: 1,
      }),
    });
    await waitFor(
      async () => {
        const { schedule } = await engine.client.describeSchedule({ scheduleId: "deploy-every-second" });
        return Number(schedule?.startedCount) > 0 ? true : undefined;
      },
      { timeoutMs: 30_000, message: "the schedule started nothing" },
    );
    await engine.client.deleteSchedule({ scheduleId: "deploy-every-second" });
  });

  it("purges an expired execution, replays and discards a dead letter and stops in bulk under these permissions", async () => {
    // Retention (the state-manager): the finished execution's index entry and snapshot go.
    await register("deploy-purge", { StartAt: "P", States: { P: { Type: "Pass", End: true } } });
    const purged = await start("deploy-purge", {});
    // Its retention is 1 ms and the purger runs every 500 ms, so it may be gone before a describe
    // sees it end; retention only purges finished executions (retention.int.test.ts), so gone
    // means it ended and was purged.
    await waitFor(
      async () =>
        (await engine.client.describeExecution({ executionId: purged }).then(
          () => false,
          (err: { code?: number }) => err.code === 5,
        ))
          ? true
          : undefined,
      { timeoutMs: 30_000, message: "the expired execution was not purged" },
    );

    // Dead letters (the api-gateway): a result nobody can decode is parked by the orchestrator,
    // replayed on its subject (parked again, as a new letter), then discarded.
    const subject = subjects.result("ship-order");
    await jetstream(reader).publish(subject, new TextEncoder().encode("not a TaskResult"));
    const parked = async (): Promise<string[] | undefined> => {
      const page = await engine.client.listDeadLetters({
        service: "orchestrator",
        subjectPrefix: subject,
        reasonContains: "",
        pageSize: 100,
        pageToken: "",
      });
      const sequences = page.deadLetters.map((letter) => String(letter.sequence));
      return sequences.length > 0 ? sequences : undefined;
    };
    const [first] = await waitFor(parked, { timeoutMs: 30_000, message: "the result was not parked" });
    await engine.client.getDeadLetter({ sequence: Number(first) });
    expect(await engine.client.replayDeadLetter({ sequence: Number(first) })).toEqual({
      subject,
      duplicate: false,
    });
    const again = await waitFor(
      async () => ((await parked())?.some((seq) => seq !== first) ? await parked() : undefined),
      { timeoutMs: 30_000, message: "the replayed result was not parked again" },
    );
    for (const sequence of again) await engine.client.discardDeadLetter({ sequence: Number(sequence) });

    // Bulk stop (the api-gateway): a running execution matched by its workflow is stopped.
    const running = await start("deploy-slow", { n: 0, ms: 60_000 }, "deploy-bulk-1");
    const { operation } = await engine.client.startBulkStop({
      filter: {
        workflowName: "deploy-slow",
        namePrefix: "deploy-bulk-",
        status: 0,
        startedAfter: undefined,
        startedBefore: undefined,
      },
      error: "BulkStopped",
      cause: "by the test",
      requestId: "deploy-bulk",
    });
    const ended = await waitForEnd(engine.client, running);
    expect(statusOf(ended.execution?.status)).toBe("ABORTED");
    await waitFor(
      async () => {
        const described = await engine.client.describeBulkOperation({
          operationId: operation?.operationId ?? "",
        });
        return Number(described.operation?.done) === 1 ? true : undefined;
      },
      { timeoutMs: 30_000, message: "the bulk operation did not record its progress" },
    );
  });

  it("logged no permission violation of any service", async () => {
    // The dispatcher's backlog metrics read every stream's consumers: one reading done.
    const dispatcher = engine.services.dispatcher[0];
    await waitFor(
      async () => {
        const response = await fetch(`http://127.0.0.1:${dispatcher?.healthPort ?? 0}/metrics`);
        return /^jetflow_consumer_pending_messages\{/m.test(await response.text());
      },
      { timeoutMs: 30_000, message: "a backlog reading" },
    );
    const log = readFileSync(nats.logFile, "utf8");
    expect(log.split("\n").filter((line) => /permissions violation/i.test(line))).toEqual([]);
    // What the services were refused shows in their own logs (a refused request is no server log line).
    for (const name of SERVICE_NAMES) {
      for (const proc of engine.services[name]) {
        const lines = readFileSync(proc.logPath, "utf8").split("\n");
        expect(lines.filter((line) => /permissions violation/i.test(line))).toEqual([]);
      }
    }
  });
});

describe("a worker's credentials", () => {
  let nc: NatsConnection;
  let violations: PermissionViolationError[];
  let executionId: string;

  beforeAll(async () => {
    nc = await connectTo(nats.url, credentialsOf("worker-examples"));
    violations = violationsOf(nc);
    await register("deploy-one", {
      StartAt: "I",
      States: { I: { Type: "Task", Resource: "validate-order", End: true } },
    });
    executionId = await start("deploy-one", { n: 41 });
    await waitForEnd(engine.client, executionId);
  });

  afterAll(async () => {
    await nc?.close();
  });

  /** Runs `attempt`, which must fail, and waits for the server to have refused `subject`. */
  async function expectRefused(subject: string, attempt: () => Promise<unknown>): Promise<void> {
    await expect(attempt()).rejects.toThrow();
    await waitFor(() => violations.some((v) => v.subject === subject), {
      timeoutMs: 5_000,
      message: `a permission violation for "${subject}"`,
    });
  }

  it("can not read jetflow_instances", async () => {
    const js = jetstream(nc, { timeout: 2_000 });
    await expectRefused(`$JS.API.STREAM.MSG.GET.KV_${buckets.instances}`, async () =>
      (await new Kvm(js).open(buckets.instances)).get(executionId),
    );
    const jsm = await jetstreamManager(nc, { timeout: 2_000 });
    await expectRefused(
      `$JS.API.DIRECT.GET.KV_${buckets.instances}.$KV.${buckets.instances}.${executionId}`,
      () =>
        jsm.direct.getMessage(`KV_${buckets.instances}`, {
          last_by_subj: `$KV.${buckets.instances}.${executionId}`,
        }),
    );
    await expectRefused(`$JS.API.STREAM.INFO.KV_${buckets.instances}`, () =>
      jsm.streams.info(`KV_${buckets.instances}`),
    );
    // Nor through the state-manager, whose answers carry snapshots.
    await expectRefused(subjects.stateLoad, () =>
      nc.request(subjects.stateLoad, new Uint8Array(), { timeout: 2_000 }),
    );
  });

  it("can not listen to the buckets, the history or other clients' replies", async () => {
    for (const subject of [`$KV.${buckets.instances}.>`, subjects.allEvents, "_INBOX.>", subjects.allTasks]) {
      const sub = nc.subscribe(subject);
      await waitFor(() => violations.some((v) => v.operation === "subscription" && v.subject === subject), {
        timeoutMs: 5_000,
        message: `a subscription violation for "${subject}"`,
      });
      expect(sub.isClosed()).toBe(true);
    }
  });

  it("can not publish an event", async () => {
    const js = jetstream(nc, { timeout: 2_000 });
    const jsm = await jetstreamManager(reader);
    const before = (await jsm.streams.info(streams.events)).state.messages;
    await expectRefused(subjects.events(executionId), () => js.publish(subjects.events(executionId), "{}"));
    nc.publish(subjects.events(executionId), "{}");
    await nc.flush();
    expect((await jsm.streams.info(streams.events)).state.messages).toBe(before);
  });

  it("can not take the tasks of another activity nor make streams", async () => {
    const jsm = await jetstreamManager(nc, { timeout: 2_000 });
    const config = consumerConfigs.task("wire-money");
    await expectRefused(
      `$JS.API.CONSUMER.CREATE.${streams.tasks}.tasks-wire-money.jetflow.tasks.wire-money`,
      () => jsm.consumers.add(streams.tasks, config),
    );
    // Its own consumer name with another activity's filter is refused too: the filter is in the subject.
    await expectRefused(
      `$JS.API.CONSUMER.CREATE.${streams.tasks}.tasks-validate-order.jetflow.tasks.wire-money`,
      () => jsm.consumers.add(streams.tasks, { ...config, durable_name: "tasks-validate-order" }),
    );
    await expectRefused(`$JS.API.STREAM.CREATE.WORKER_OWN`, () =>
      jsm.streams.add({ name: "WORKER_OWN", subjects: ["own.>"] }),
    );
    await expectRefused(subjects.result("wire-money"), () =>
      jetstream(nc, { timeout: 2_000 }).publish(subjects.result("wire-money"), "{}"),
    );
  });

  it("is refused altogether with a wrong password", async () => {
    await expect(
      connectTo(nats.url, { user: "worker-examples", pass: "wrong", reconnect: false }),
    ).rejects.toThrow(/authorization/i);
  });
});

describe("the runtime contract of every service process", () => {
  function healthUrl(proc: ManagedProcess, path: string): string {
    return `http://127.0.0.1:${proc.healthPort ?? 0}${path}`;
  }

  it("answers /healthz and /readyz once started", async () => {
    for (const name of SERVICE_NAMES) {
      for (const proc of engine.services[name]) {
        const health = await fetch(healthUrl(proc, "/healthz"));
        expect([name, health.status]).toEqual([name, 200]);
        await waitFor(async () => (await fetch(healthUrl(proc, "/readyz"))).status === 200, {
          timeoutMs: 10_000,
          message: `${proc.label} to be ready`,
        });
        expect((await fetch(healthUrl(proc, "/nothing"))).status).toBe(404);
      }
    }
  });

  it("fails at start with one line per bad variable", async () => {
    for (const name of SERVICE_NAMES) {
      const child = spawn(process.execPath, [resolve(__dirname, `../../services/${name}/dist/main.js`)], {
        env: {
          PATH: process.env.PATH,
          NATS_URL: "nats://127.0.0.1:4222,not a url",
          NATS_USER: name,
          HEALTH_PORT: "http",
          JETFLOW_REPLICAS: "7",
        },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let stderr = "";
      child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
      const code = await new Promise<number | null>((done) => child.once("exit", done));
      expect([name, code]).toEqual([name, 1]);
      expect(stderr).toContain(
        'NATS_URL must be a comma-separated list of nats://host:port URLs, got "not a url"',
      );
      expect(stderr).toContain("NATS_USER and NATS_PASSWORD must be set together");
      expect(stderr).toContain('HEALTH_PORT must be an integer from 0 to 65535, got "http"');
      expect(stderr).toContain('JETFLOW_REPLICAS must be an integer from 1 to 5, got "7"');
    }
  });

  it("stops on SIGTERM with exit code 0 and loses no work", async () => {
    await register("deploy-chain", {
      StartAt: "S1",
      States: {
        S1: { Type: "Task", Resource: "ship-order", Next: "S2" },
        S2: { Type: "Task", Resource: "ship-order", Next: "S3" },
        S3: { Type: "Task", Resource: "ship-order", End: true },
      },
    });
    const ids = await Promise.all([0, 10, 20].map((n) => start("deploy-chain", { n, ms: 300 })));
    for (const name of SERVICE_NAMES) {
      const [proc] = engine.services[name];
      if (proc === undefined) throw new Error(`no ${name} process`);
      const exited = proc.exited();
      proc.signal("SIGTERM");
      await expect(exited).resolves.toBe(0);
      const log = readFileSync(proc.logPath, "utf8");
      expect(log).toContain('"msg":"service stopped"');
      await engine.startService(name);
    }
    for (const [i, executionId] of ids.entries()) {
      const described = await waitForEnd(engine.client, executionId);
      expect(statusOf(described.execution?.status)).toBe("SUCCEEDED");
      expect(JSON.parse(described.outputJson)).toEqual({ n: i * 10 + 3, ms: 300 });
      await checkStoredExecution(reader, executionId);
    }
  });
});
