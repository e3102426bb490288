// Hostile input on the API: each request below gets a clear error or completes, and afterwards
// every service is still up and serves another client. Loopback, no auth (the limits apply to
// every caller alike).
import { Client, credentials } from "@grpc/grpc-js";
import { Code, JetflowError, createClient } from "@jetflow/client";
import type { JetflowClient } from "@jetflow/client";
import { SERVICE_NAMES, startEngine } from "../src";
import type { Engine } from "../src";

let engine: Engine;
let client: JetflowClient;

async function failure(call: Promise<unknown>): Promise<JetflowError> {
  try {
    await call;
  } catch (err) {
    if (err instanceof JetflowError) return err;
    throw err;
  }
  throw new Error("expected the call to fail");
}

const PASS = JSON.stringify({ StartAt: "P", States: { P: { Type: "Pass", End: true } } });

beforeAll(async () => {
  engine = await startEngine();
  client = createClient({ address: engine.grpcAddress, retries: 0, deadlineMs: 60_000 });
  await client.registerWorkflow({ name: "hostile-pass", definition: PASS });
});

afterAll(async () => {
  client?.close();
  await engine?.stop();
});

it("refuses a huge input with the size and the limit", async () => {
  const big = JSON.stringify({ s: "x".repeat(300 * 1024) });
  const err = await failure(client.startExecution({ workflowName: "hostile-pass", inputJson: big }));
  expect(err.code).toBe(Code.RESOURCE_EXHAUSTED);
  expect(err.details).toBe(`input_json is ${big.length} bytes, more than the limit of 262144`);
  // Past the transport's 4 MiB, gRPC itself refuses the message.
  const huge = JSON.stringify({ s: "x".repeat(5 * 1024 * 1024) });
  expect((await failure(client.startExecution({ workflowName: "hostile-pass", inputJson: huge }))).code).toBe(
    Code.RESOURCE_EXHAUSTED,
  );
});

it("refuses deeply nested JSON before anything recurses over it", async () => {
  const deep = "[".repeat(100_000) + "]".repeat(100_000);
  const err = await failure(client.startExecution({ workflowName: "hostile-pass", inputJson: deep }));
  expect(err.code).toBe(Code.INVALID_ARGUMENT);
  expect(err.details).toBe(
    "invalid request:\ninput_json: nests objects and arrays more than 128 levels deep",
  );
});

it("refuses a YAML alias bomb", async () => {
  const levels = "abcdefghi".split("");
  const lines = [`a: &a [${Array(10).fill('"x"').join(",")}]`];
  for (let i = 1; i < levels.length; i++) {
    lines.push(
      `${levels[i]}: &${levels[i]} [${Array(10)
        .fill(`*${levels[i - 1]}`)
        .join(",")}]`,
    );
  }
  const bomb = [...lines, "StartAt: P", "States:", "  P: { Type: Pass, End: true }"].join("\n");
  const started = Date.now();
  const err = await failure(client.registerWorkflow({ name: "hostile-bomb", definition: bomb }));
  expect(err.code).toBe(Code.INVALID_ARGUMENT);
  expect(err.details).toBe(
    "invalid workflow definition:\n(root): the definition holds more than 1000000 values once its YAML aliases are expanded",
  );
  // Measured without being expanded: the gateway's event loop is not held for seconds.
  expect(Date.now() - started).toBeLessThan(2000);
});

it("runs a catastrophic StringMatches pattern in linear time", async () => {
  const definition = JSON.stringify({
    StartAt: "C",
    States: {
      C: {
        Type: "Choice",
        Choices: [{ Variable: "$.s", StringMatches: "*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b", Next: "Yes" }],
        Default: "No",
      },
      Yes: { Type: "Pass", Result: "yes", End: true },
      No: { Type: "Pass", Result: "no", End: true },
    },
  });
  await client.registerWorkflow({ name: "hostile-regex", definition });
  const started = Date.now();
  const { executionId } = await client.startExecution({
    workflowName: "hostile-regex",
    input: { s: "a".repeat(100_000) },
  });
  const done = await client.waitForExecution(executionId);
  expect(JSON.parse(done.outputJson)).toBe("no");
  expect(Date.now() - started).toBeLessThan(30_000);
});

it("takes invalid UTF-8 as replacement characters, never as a crash", async () => {
  // StartExecutionRequest encoded by hand: field 1 (workflow_name) and field 3 (input_json) whose
  // bytes are not UTF-8, which no well-behaved client library would send.
  const name = Buffer.from("hostile-pass");
  const input = Buffer.concat([Buffer.from('{"s":"'), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from('"}')]);
  const request = Buffer.concat([
    Buffer.from([0x0a, name.length]),
    name,
    Buffer.from([0x1a, input.length]),
    input,
  ]);
  const raw = new Client(engine.grpcAddress, credentials.createInsecure());
  try {
    const response = await new Promise<Buffer>((resolve, reject) =>
      raw.makeUnaryRequest(
        "/jetflow.v1.WorkflowService/StartExecution",
        (b: Buffer) => b,
        (b: Buffer) => b,
        request,
        (err, value) => (err || !value ? reject(err) : resolve(value)),
      ),
    );
    // Field 1 of StartExecutionResponse: the execution id.
    const executionId = response.subarray(2, 2 + (response[1] ?? 0)).toString();
    const done = await client.waitForExecution(executionId);
    expect(JSON.parse(done.outputJson)).toEqual({ s: "\ufffd\ufffd\ufffd" });
  } finally {
    raw.close();
  }
});

it("runs a Map over 30,000 items while serving other executions promptly", async () => {
  const definition = JSON.stringify({
    StartAt: "M",
    States: {
      M: {
        Type: "Map",
        ItemProcessor: { StartAt: "P", States: { P: { Type: "Pass", End: true } } },
        ResultSelector: { "count.$": "States.ArrayLength($)" },
        End: true,
      },
    },
  });
  await client.registerWorkflow({ name: "hostile-map", definition });
  const items = Array.from({ length: 30_000 }, () => 1);
  const { executionId } = await client.startExecution({ workflowName: "hostile-map", input: items });
  // Meanwhile another execution is served promptly.
  const other = await client.startExecution({ workflowName: "hostile-pass", input: { n: 1 } });
  expect((await client.waitForExecution(other.executionId)).outputJson).toBe('{"n":1}');
  const done = await client.waitForExecution(executionId, { timeoutMs: 300_000 });
  expect(JSON.parse(done.outputJson)).toEqual({ count: 30_000 });
});

it("serves thousands of concurrent starts from one client, then everyone else", async () => {
  const starts = Array.from({ length: 2000 }, (_, i) =>
    client.startExecution({ workflowName: "hostile-pass", input: { i } }).then(
      () => "ok",
      (err: unknown) => (err instanceof JetflowError ? (Code[err.code] ?? String(err.code)) : String(err)),
    ),
  );
  const outcomes = await Promise.all(starts);
  const counts: Record<string, number> = {};
  for (const outcome of outcomes) counts[outcome] = (counts[outcome] ?? 0) + 1;
  // Every start either succeeded or was told to back off; none was lost in an internal error.
  expect(
    Object.keys(counts).filter((k) => k !== "ok" && k !== "RESOURCE_EXHAUSTED" && k !== "UNAVAILABLE"),
  ).toEqual([]);
  expect(counts["ok"]).toBeGreaterThan(0);
});

it("leaves every service up and serving another client", async () => {
  for (const name of SERVICE_NAMES) {
    for (const proc of engine.services[name])
      expect({ [proc.label]: proc.running }).toEqual({ [proc.label]: true });
  }
  const other = createClient({ address: engine.grpcAddress, retries: 0 });
  try {
    const { executionId } = await other.startExecution({
      workflowName: "hostile-pass",
      input: { last: true },
    });
    expect((await other.waitForExecution(executionId)).outputJson).toBe('{"last":true}');
  } finally {
    other.close();
  }
});
