// The gateway in-process against a real nats-server, without the other services: the standard
// health service, server reflection, and ListExecutions over 100,000 indexed executions (the
// newest 10,000 in the gateway's window, the rest read from the bucket).
import { resolve } from "node:path";
import { Metadata, credentials, loadPackageDefinition, makeClientConstructor } from "@grpc/grpc-js";
import type { Client, ClientDuplexStream, ServiceClientConstructor, ServiceError } from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import {
  ExecutionStatus,
  ExecutionSummary,
  buckets,
  consumerConfigs,
  consumers,
  encode,
  streams,
} from "@jetflow/contracts";
import { createClient } from "@jetflow/client";
import type { JetflowClient } from "@jetflow/client";
import { connectTo, startNatsServer } from "@jetflow/testing";
import type { NatsServer } from "@jetflow/testing";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { service as healthService } from "grpc-health-check";
import pino from "pino";
import { createGateway } from "../src/gateway";

let server: NatsServer;
let nc: NatsConnection;
let gateway: ReturnType<typeof createGateway>;
let address: string;
let client: JetflowClient;

beforeAll(async () => {
  server = await startNatsServer();
  nc = await connectTo(server.url);
  gateway = createGateway({
    nc,
    log: pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" }),
    config: {
      grpcAddress: "127.0.0.1:0",
      maxPayloadBytes: 256 * 1024,
      maxDefinitionBytes: 512 * 1024,
      stateTimeoutMs: 5_000,
      replicas: 1,
      protoDir: undefined,
      httpHost: "127.0.0.1",
      httpPort: 0,
      consoleDir: undefined,
    },
  });
  address = `127.0.0.1:${await gateway.start()}`;
  client = createClient({ address, retries: 0 });
});

afterAll(async () => {
  client?.close();
  await gateway?.stop();
  await nc?.close();
  await server?.dispose();
});

type Callback<T> = (err: ServiceError | null, value: T) => void;

describe("health", () => {
  it("reports the server and the WorkflowService as SERVING", async () => {
    const Health = makeClientConstructor(healthService, "Health") as unknown as new (
      address: string,
      creds: ReturnType<typeof credentials.createInsecure>,
    ) => Client & { check(req: { service: string }, cb: Callback<{ status: string }>): void };
    const health = new Health(address, credentials.createInsecure());
    try {
      const check = (service: string) =>
        new Promise<string>((done, fail) =>
          health.check({ service }, (err, res) => (err ? fail(err) : done(res.status))),
        );
      expect(await check("")).toBe("SERVING");
      expect(await check("jetflow.v1.WorkflowService")).toBe("SERVING");
      await expect(check("no.such.Service")).rejects.toMatchObject({ code: 5 });
    } finally {
      health.close();
    }
  });
});

describe("task consumers", () => {
  it("creates each activity's task consumer at registration, in branches and item processors too", async () => {
    const definition = {
      StartAt: "Charge",
      States: {
        Charge: { Type: "Task", Resource: "gw-charge", Next: "Both" },
        Both: {
          Type: "Parallel",
          Branches: [
            { StartAt: "Mail", States: { Mail: { Type: "Task", Resource: "gw-mail", End: true } } },
            {
              StartAt: "Each",
              States: {
                Each: {
                  Type: "Map",
                  ItemProcessor: {
                    StartAt: "Ship",
                    States: {
                      Ship: { Type: "Task", Resource: "arn:aws:states:eu:1:activity:gw-ship", End: true },
                    },
                  },
                  End: true,
                },
              },
            },
          ],
          End: true,
        },
      },
    };
    const jsm = await jetstreamManager(nc);
    // A worker that came first keeps its own ack wait: registration never changes a consumer.
    await jsm.consumers.add(streams.tasks, consumerConfigs.task("gw-mail", 90_000));

    await client.registerWorkflow({ name: "gw-consumers", definition: JSON.stringify(definition) });

    for (const activity of ["gw-charge", "gw-ship"]) {
      const info = await jsm.consumers.info(streams.tasks, consumers.task(activity));
      expect(info.config).toMatchObject(consumerConfigs.task(activity));
    }
    const mail = await jsm.consumers.info(streams.tasks, consumers.task("gw-mail"));
    expect(mail.config.ack_wait).toBe(90_000 * 1_000_000);
  });
});

describe("server reflection", () => {
  it("lists the services and serves the descriptors of the WorkflowService without .proto files", async () => {
    const protoFile = resolve(
      require.resolve("@grpc/reflection"),
      "../../proto/grpc/reflection/v1/reflection.proto",
    );
    const pkg = loadPackageDefinition(loadSync(protoFile, { keepCase: true })) as unknown as {
      grpc: { reflection: { v1: { ServerReflection: ServiceClientConstructor } } };
    };
    const reflection = new pkg.grpc.reflection.v1.ServerReflection(
      address,
      credentials.createInsecure(),
    ) as unknown as Client & {
      ServerReflectionInfo(metadata: Metadata): ClientDuplexStream<object, Record<string, unknown>>;
    };
    try {
      const ask = (request: object) =>
        new Promise<Record<string, unknown>>((done, fail) => {
          const call = reflection.ServerReflectionInfo(new Metadata());
          call.on("data", (response: Record<string, unknown>) => {
            done(response);
            call.end();
          });
          call.on("error", fail);
          call.write(request);
        });
      const listed = (await ask({ list_services: "" })) as {
        list_services_response: { service: Array<{ name: string }> };
      };
      expect(listed.list_services_response.service.map((s) => s.name)).toEqual(
        expect.arrayContaining(["jetflow.v1.WorkflowService", "grpc.health.v1.Health"]),
      );
      const file = (await ask({ file_containing_symbol: "jetflow.v1.WorkflowService" })) as {
        file_descriptor_response: { file_descriptor_proto: Buffer[] };
      };
      const descriptors = Buffer.concat(file.file_descriptor_response.file_descriptor_proto).toString(
        "latin1",
      );
      expect(descriptors).toContain("WorkflowService");
      expect(descriptors).toContain(".jetflow.v1.StartExecutionRequest");
      // Its dependencies come along, so a client can decode every message.
      expect(descriptors).toContain("google.protobuf");
    } finally {
      reflection.close();
    }
  });
});

describe("ListExecutions at scale", () => {
  it("pages, filters and follows new entries with 100,000 executions indexed", async () => {
    const js = jetstream(nc);
    const total = 100_000;
    const statusOf = (i: number) =>
      i % 1000 === 7
        ? ExecutionStatus.EXECUTION_STATUS_FAILED
        : i >= total - 10
          ? ExecutionStatus.EXECUTION_STATUS_RUNNING
          : ExecutionStatus.EXECUTION_STATUS_SUCCEEDED;
    // The entries the state-manager would have written, published straight into the bucket.
    for (let from = 0; from < total; from += 5_000) {
      const publishes: Array<Promise<unknown>> = [];
      for (let i = from; i < from + 5_000; i++) {
        const summary: ExecutionSummary = {
          executionId: `e-${i}`,
          executionName: "",
          workflowName: `w${i % 50}`,
          workflowVersion: 1,
          status: statusOf(i),
          startTime: new Date(1_700_000_000_000 + i * 1000),
          stopTime: undefined,
          redriveCount: 0,
          scheduleId: "",
        };
        publishes.push(js.publish(`$KV.${buckets.executions}.e-${i}`, encode(ExecutionSummary, summary)));
      }
      await Promise.all(publishes);
    }

    // The first call waits until the gateway's view holds all of them.
    const first = await client.listExecutions({ pageSize: 100 });
    expect(first.executions.map((e) => e.executionId).slice(0, 3)).toEqual(["e-99999", "e-99998", "e-99997"]);

    // Pages of the newest 10,000 (the default window): walks of an in-memory list.
    const started = performance.now();
    const second = await client.listExecutions({ pageSize: 100, pageToken: first.nextPageToken });
    const byWorkflow = await client.listExecutions({ workflowName: "w7", pageSize: 100 });
    const fromWindow = performance.now() - started;
    // A rare status is not all in the window: each of these reads the 100,000 entries once.
    const failed = await client.listExecutions({
      status: ExecutionStatus.EXECUTION_STATUS_FAILED,
      pageSize: 1000,
    });
    const running = await client.listExecutions({ status: ExecutionStatus.EXECUTION_STATUS_RUNNING });
    const scans = performance.now() - started - fromWindow;

    expect(second.executions[0]?.executionId).toBe("e-99899");
    expect(byWorkflow.executions.map((e) => e.executionId).slice(0, 2)).toEqual(["e-99957", "e-99907"]);
    expect(failed.executions).toHaveLength(100);
    expect(failed.nextPageToken).toBe("");
    expect(running.executions.map((e) => e.executionId)).toEqual(
      Array.from({ length: 10 }, (_, k) => `e-${total - 1 - k}`),
    );
    expect(fromWindow).toBeLessThan(1_000);
    // About a second each on an idle machine; generous for a busy one.
    expect(scans).toBeLessThan(30_000);

    // A status change written after the list was loaded shows in the next call.
    await js.publish(
      `$KV.${buckets.executions}.e-99999`,
      encode(ExecutionSummary, {
        ...(first.executions[0] as ExecutionSummary),
        status: ExecutionStatus.EXECUTION_STATUS_ABORTED,
        stopTime: new Date(),
        redriveCount: 0,
        scheduleId: "",
      }),
    );
    const aborted = await client.listExecutions({ status: ExecutionStatus.EXECUTION_STATUS_ABORTED });
    expect(aborted.executions.map((e) => e.executionId)).toEqual(["e-99999"]);
  });
});
