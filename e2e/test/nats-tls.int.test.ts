// TLS between the engine and NATS: a nats-server that requires TLS and verifies client
// certificates (made by openssl), the five services, a worker and the Go example worker
// connecting with NATS_TLS_*, a plaintext client refused by the server, and TLS-configured
// workers (TypeScript and Go) refusing a plaintext server.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runWorker } from "@jetflow/worker-sdk";
import type { RunningWorker } from "@jetflow/worker-sdk";
import { connectTo, startNatsServer, waitFor } from "@jetflow/testing";
import type { NatsServer } from "@jetflow/testing";
import {
  buildGoExampleWorker,
  createTestCa,
  startEngine,
  statusOf,
  testActivities,
  waitForEnd,
} from "../src";
import type { CertFiles, Engine, TestCa } from "../src";

let ca: TestCa;
let serverCert: CertFiles;
let clientCert: CertFiles;
let nats: NatsServer;
let engine: Engine;
let worker: RunningWorker | undefined;
let tlsEnv: Record<string, string>;
const buildDir = mkdtempSync(join(tmpdir(), "jetflow-go-worker-"));
const goWorker = join(buildDir, "go-worker");
let building: Promise<void>;

/** Runs the Go example worker with `env`; `output()` is what it has printed so far. */
function spawnGoWorker(env: Record<string, string>) {
  const child = spawn(goWorker, [], {
    env: { PATH: process.env.PATH ?? "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let printed = "";
  child.stdout.on("data", (chunk: Buffer) => (printed += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (printed += chunk.toString()));
  const exited = new Promise<number | null>((done) => child.once("exit", (code) => done(code)));
  return { child, exited, output: () => printed };
}

beforeAll(async () => {
  building = buildGoExampleWorker(goWorker);
  building.catch(() => undefined); // awaited (and reported) by the Go tests
  ca = createTestCa("nats");
  serverCert = ca.issue("nats-server");
  clientCert = ca.issue("jetflow");
  tlsEnv = { NATS_TLS_CA: ca.ca, NATS_TLS_CERT: clientCert.cert, NATS_TLS_KEY: clientCert.key };
  nats = await startNatsServer({
    extraConfig: `tls {\n  cert_file: "${serverCert.cert}"\n  key_file: "${serverCert.key}"\n  ca_file: "${ca.ca}"\n  verify: true\n}\n`,
    connectOptions: { tls: { caFile: ca.ca, certFile: clientCert.cert, keyFile: clientCert.key } },
  });
  engine = await startEngine({ nats, env: tlsEnv });
}, 180_000);

afterAll(async () => {
  await worker?.shutdown();
  await engine?.stop();
  await nats?.dispose();
  rmSync(buildDir, { recursive: true, force: true });
});

it("runs a workflow with every service and the worker on TLS", async () => {
  worker = await runWorker(testActivities, { env: { NATS_URL: nats.url, ...tlsEnv }, handleSignals: false });
  const definition = JSON.stringify({
    StartAt: "One",
    States: { One: { Type: "Task", Resource: "inc", End: true } },
  });
  await engine.client.registerWorkflow({ name: "tls-seq", definition, description: "" });
  const { executionId } = await engine.client.startExecution({
    workflowName: "tls-seq",
    workflowVersion: 0,
    inputJson: '{"n":1}',
    executionName: "",
  });
  const described = await waitForEnd(engine.client, executionId);
  expect(statusOf(described.execution?.status)).toBe("SUCCEEDED");
  expect(JSON.parse(described.outputJson)).toEqual({ n: 2 });
});

it("refuses a plaintext client and one without a client certificate", async () => {
  await expect(connectTo(nats.url, { reconnect: false })).rejects.toThrow();
  await expect(connectTo(nats.url, { reconnect: false, tls: { caFile: ca.ca } })).rejects.toThrow();
});

it("makes a TLS-configured worker refuse a server without TLS", async () => {
  const plain = await startNatsServer();
  try {
    await expect(
      runWorker(testActivities, { env: { NATS_URL: plain.url, ...tlsEnv }, handleSignals: false }),
    ).rejects.toThrow("server does not support 'tls'");
  } finally {
    await plain.dispose();
  }
});

it("runs a task on the Go example worker connected with NATS_TLS_*", async () => {
  await building;
  const go = spawnGoWorker({ NATS_URL: nats.url, ...tlsEnv });
  try {
    await waitFor(() => go.output().includes("started"), {
      timeoutMs: 20_000,
      message: "the Go worker did not start",
    });
    const definition = JSON.stringify({
      StartAt: "Greet",
      States: { Greet: { Type: "Task", Resource: "go-greet", End: true } },
    });
    await engine.client.registerWorkflow({ name: "tls-go", definition, description: "" });
    const { executionId } = await engine.client.startExecution({
      workflowName: "tls-go",
      workflowVersion: 0,
      inputJson: '{"who":"tls"}',
      executionName: "",
    });
    const described = await waitForEnd(engine.client, executionId);
    expect(statusOf(described.execution?.status)).toBe("SUCCEEDED");
    expect(JSON.parse(described.outputJson)).toEqual({ greeting: "hello tls", execution: executionId });
  } finally {
    go.child.kill("SIGTERM");
    expect(await go.exited).toBe(0);
  }
}, 180_000);

it("makes the Go worker exit on a server without TLS, and on one its NATS_TLS_CA does not trust", async () => {
  await building;
  const plain = await startNatsServer();
  try {
    const go = spawnGoWorker({ NATS_URL: plain.url, NATS_TLS_CA: ca.ca });
    expect(await go.exited).toBe(1);
    expect(go.output()).toContain(`NATS at "${plain.url}" offers no TLS`);
  } finally {
    await plain.dispose();
  }
  const other = createTestCa("other");
  const go = spawnGoWorker({
    NATS_URL: nats.url,
    NATS_TLS_CA: other.ca,
    NATS_TLS_CERT: clientCert.cert,
    NATS_TLS_KEY: clientCert.key,
  });
  expect(await go.exited).toBe(1);
  expect(go.output()).toContain(`the certificate of NATS at "${nats.url}" is not trusted`);
}, 180_000);
