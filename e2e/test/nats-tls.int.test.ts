// TLS between the engine and NATS: a nats-server that requires TLS and verifies client
// certificates (made by openssl), the five services and a worker connecting with NATS_TLS_*,
// a plaintext client refused by the server, and a TLS-configured worker refusing a plaintext server.
import { runWorker } from "@jetflow/worker-sdk";
import type { RunningWorker } from "@jetflow/worker-sdk";
import { connectTo, startNatsServer } from "@jetflow/testing";
import type { NatsServer } from "@jetflow/testing";
import { createTestCa, startEngine, statusOf, testActivities, waitForEnd } from "../src";
import type { CertFiles, Engine, TestCa } from "../src";

let ca: TestCa;
let serverCert: CertFiles;
let clientCert: CertFiles;
let nats: NatsServer;
let engine: Engine;
let worker: RunningWorker | undefined;
let tlsEnv: Record<string, string>;

beforeAll(async () => {
  ca = createTestCa("nats");
  serverCert = ca.issue("nats-server");
  clientCert = ca.issue("jetflow");
  tlsEnv = { NATS_TLS_CA: ca.ca, NATS_TLS_CERT: clientCert.cert, NATS_TLS_KEY: clientCert.key };
  nats = await startNatsServer({
    extraConfig: `tls {\n  cert_file: "${serverCert.cert}"\n  key_file: "${serverCert.key}"\n  ca_file: "${ca.ca}"\n  verify: true\n}\n`,
    connectOptions: { tls: { caFile: ca.ca, certFile: clientCert.cert, keyFile: clientCert.key } },
  });
  engine = await startEngine({ nats, env: tlsEnv });
});

afterAll(async () => {
  await worker?.shutdown();
  await engine?.stop();
  await nats?.dispose();
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
