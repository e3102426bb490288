// The API's locks, end to end: every RPC called with no token, an expired JWT, a JWT signed by
// the wrong key, each role (static tokens and a JWT), a token scoped to workflow prefixes, and
// over mutual TLS with and without a client certificate. Certificates come from openssl.
import { createHash, generateKeyPairSync, randomUUID, sign } from "node:crypto";
import type { KeyObject } from "node:crypto";
import { copyFileSync, readFileSync } from "node:fs";
import { request as httpsRequest } from "node:https";
import { Metadata, credentials } from "@grpc/grpc-js";
import { Code, JetflowError, createClient } from "@jetflow/client";
import {
  WorkflowDefinitionRecord,
  WorkflowServiceClient,
  WorkflowServiceService,
  buckets,
  decode,
} from "@jetflow/contracts";
import type { ClientOptions, JetflowClient } from "@jetflow/client";
import { connectTo, waitFor } from "@jetflow/testing";
import { jetstream } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { createTestCa, startEngine } from "../src";
import type { CertFiles, Engine, TestCa } from "../src";

const WAIT_FOREVER = JSON.stringify({
  StartAt: "Hold",
  States: { Hold: { Type: "Wait", Seconds: 3600, End: true } },
});
const ISSUER = "https://idp.example.test";
const AUDIENCE = "jetflow-api";
const TOKENS = {
  reader: "reader-secret",
  operator: "operator-secret",
  admin: "admin-secret",
  team: "team-secret",
};

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");
const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

/** An ES256 JWT signed with node:crypto alone, so the test does not share the gateway's library. */
function signJwt(claims: Record<string, unknown>, key: KeyObject): string {
  const now = Math.floor(Date.now() / 1000);
  const body = `${b64url({ alg: "ES256", typ: "JWT" })}.${b64url({ iss: ISSUER, aud: AUDIENCE, iat: now, exp: now + 300, ...claims })}`;
  const signature = sign("sha256", Buffer.from(body), { key, dsaEncoding: "ieee-p1363" });
  return `${body}.${signature.toString("base64url")}`;
}

const jwtKeys = generateKeyPairSync("ec", { namedCurve: "P-256" });
const wrongKeys = generateKeyPairSync("ec", { namedCurve: "P-256" });

let ca: TestCa;
let serverCert: CertFiles;
let clientCert: CertFiles;
let engine: Engine;
let admin: JetflowClient;
let running: string;
const clients: JetflowClient[] = [];
/** What each client of {@link connect} was made with, for {@link validateWorkflow}. */
const credentialsOf = new WeakMap<JetflowClient, { token: string; tls: ClientOptions["tls"] }>();

function connect(token: string, tls: ClientOptions["tls"] = mtls()): JetflowClient {
  const client = createClient({ address: engine.grpcAddress, retries: 0, deadlineMs: 15_000, token, tls });
  clients.push(client);
  credentialsOf.set(client, { token, tls });
  return client;
}

/**
 * ValidateWorkflow, which JetflowClient does not offer (the console calls it over HTTP): the
 * generated stub, with the token and TLS `client` was made with. Rejects with a JetflowError.
 */
async function validateWorkflow(client: JetflowClient, definition: string): Promise<unknown> {
  const made = credentialsOf.get(client);
  if (!made || typeof made.tls !== "object") throw new Error("validateWorkflow needs a client of connect()");
  const bytes = (pem: string | Buffer | undefined) => (pem === undefined ? undefined : Buffer.from(pem));
  const { ca: trust, cert, key } = made.tls;
  const stub = new WorkflowServiceClient(
    engine.grpcAddress,
    credentials.createSsl(bytes(trust), bytes(key), bytes(cert)),
  );
  const metadata = new Metadata();
  if (made.token) metadata.set("authorization", `Bearer ${made.token}`);
  try {
    return await new Promise((resolve, reject) =>
      stub.validateWorkflow({ definition }, metadata, { deadline: Date.now() + 15_000 }, (err, res) =>
        err ? reject(JetflowError.from(err)) : resolve(res),
      ),
    );
  } finally {
    stub.close();
  }
}

function mtls(cert: CertFiles | null = clientCert, trust = ca.ca): ClientOptions["tls"] {
  return {
    ca: readFileSync(trust),
    ...(cert ? { cert: readFileSync(cert.cert), key: readFileSync(cert.key) } : {}),
  };
}

/** The gRPC status a call ends with: 0 for success. */
async function statusOf(call: Promise<unknown>): Promise<number> {
  try {
    await call;
    return Code.OK;
  } catch (err) {
    if (err instanceof JetflowError) return err.code;
    throw err;
  }
}

async function failure(call: Promise<unknown>): Promise<JetflowError> {
  try {
    await call;
  } catch (err) {
    if (err instanceof JetflowError) return err;
    throw err;
  }
  throw new Error("expected the call to fail");
}

async function firstEvent(client: JetflowClient, executionId: string): Promise<void> {
  for await (const event of client.watchExecution({ executionId })) {
    expect(event.eventId).toBe(1);
    return;
  }
}

type Rpc = (client: JetflowClient) => Promise<unknown>;

/** Every RPC, each with a request that succeeds (or, for task calls, NOT_FOUND) when allowed. */
const RPCS: Record<string, { role: "reader" | "operator" | "admin"; call: Rpc; allowed?: number }> = {
  RegisterWorkflow: {
    role: "admin",
    call: (c) => c.registerWorkflow({ name: "sec-hold", definition: WAIT_FOREVER }),
  },
  GetWorkflow: { role: "reader", call: (c) => c.getWorkflow({ name: "sec-hold" }) },
  ListWorkflows: { role: "reader", call: (c) => c.listWorkflows() },
  ValidateWorkflow: {
    role: "reader",
    call: async (c) => {
      const res = (await validateWorkflow(c, WAIT_FOREVER)) as { valid: boolean };
      // Past the auth checks the definition is really validated.
      expect(res.valid).toBe(true);
    },
  },
  StartExecution: { role: "operator", call: (c) => c.startExecution({ workflowName: "sec-hold" }) },
  DescribeExecution: { role: "reader", call: (c) => c.describeExecution(running) },
  ListExecutions: { role: "reader", call: (c) => c.listExecutions({ workflowName: "sec-hold" }) },
  GetExecutionHistory: { role: "reader", call: (c) => c.getExecutionHistory({ executionId: running }) },
  WatchExecution: { role: "reader", call: (c) => firstEvent(c, running) },
  StopExecution: {
    role: "operator",
    call: async (c) => {
      const { executionId } = await admin.startExecution({ workflowName: "sec-hold" });
      return c.stopExecution({ executionId });
    },
  },
  // A running execution cannot be redriven: FAILED_PRECONDITION once past the auth checks.
  RedriveExecution: {
    role: "operator",
    call: (c) => c.redriveExecution(running),
    allowed: Code.FAILED_PRECONDITION,
  },
  CreateSchedule: {
    role: "operator",
    call: (c) =>
      c.createSchedule({
        scheduleId: `sec-${randomUUID()}`,
        workflowName: "sec-hold",
        intervalSeconds: 3600,
        paused: true,
      }),
  },
  DescribeSchedule: { role: "reader", call: (c) => c.describeSchedule("sec-sched") },
  ListSchedules: { role: "reader", call: (c) => c.listSchedules() },
  PauseSchedule: { role: "operator", call: (c) => c.pauseSchedule("sec-sched") },
  ResumeSchedule: { role: "operator", call: (c) => c.resumeSchedule("sec-sched") },
  // An unknown schedule: NOT_FOUND once past the auth checks.
  DeleteSchedule: { role: "operator", call: (c) => c.deleteSchedule("sec-none"), allowed: Code.NOT_FOUND },
  // A well-formed token of a task that is not running: NOT_FOUND once past the auth checks.
  SendTaskSuccess: {
    role: "operator",
    call: (c) => c.sendTaskSuccess(`${running}.99`, {}),
    allowed: Code.NOT_FOUND,
  },
  SendTaskFailure: {
    role: "operator",
    call: (c) => c.sendTaskFailure(`${running}.99`, "E"),
    allowed: Code.NOT_FOUND,
  },
  // A heartbeat of a finished task answers "cancel requested" rather than an error.
  SendTaskHeartbeat: { role: "operator", call: (c) => c.sendTaskHeartbeat(`${running}.99`) },
  GetEngineStats: { role: "reader", call: (c) => c.getEngineStats() },
  ListDeadLetters: { role: "reader", call: (c) => c.listDeadLetters() },
  // A dead letter that does not exist: NOT_FOUND once past the auth checks.
  GetDeadLetter: { role: "reader", call: (c) => c.getDeadLetter(999_999), allowed: Code.NOT_FOUND },
  ReplayDeadLetter: { role: "operator", call: (c) => c.replayDeadLetter(999_999), allowed: Code.NOT_FOUND },
  DiscardDeadLetter: { role: "admin", call: (c) => c.discardDeadLetter(999_999), allowed: Code.NOT_FOUND },
  StartBulkStop: {
    role: "operator",
    call: (c) => c.startBulkStop({ filter: { workflowName: "sec-hold", namePrefix: "none-" } }),
  },
  StartBulkRedrive: {
    role: "operator",
    call: (c) => c.startBulkRedrive({ filter: { workflowName: "sec-hold", namePrefix: "none-" } }),
  },
  DescribeBulkOperation: {
    role: "reader",
    call: (c) => c.describeBulkOperation("bulk-missing"),
    allowed: Code.NOT_FOUND,
  },
  ListBulkOperations: { role: "reader", call: (c) => c.listBulkOperations() },
};
const RANK = { reader: 0, operator: 1, admin: 2 };

beforeAll(async () => {
  ca = createTestCa("api");
  serverCert = ca.issue("server");
  clientCert = ca.issue("client");
  engine = await startEngine({
    serviceEnv: {
      "api-gateway": {
        API_TLS_CERT: serverCert.cert,
        API_TLS_KEY: serverCert.key,
        API_TLS_CLIENT_CA: ca.ca,
        API_TLS_RELOAD_MS: "1000",
        API_TOKENS: JSON.stringify([
          ...(["reader", "operator", "admin"] as const).map((role) => ({
            name: `${role}-bot`,
            role,
            sha256: sha256(TOKENS[role]),
          })),
          {
            name: "team-a-bot",
            role: "operator",
            sha256: sha256(TOKENS.team),
            workflowPrefixes: ["team-a-"],
          },
        ]),
        API_JWT_PUBLIC_KEY: jwtKeys.publicKey.export({ type: "spki", format: "pem" }).toString(),
        API_JWT_ISSUER: ISSUER,
        API_JWT_AUDIENCE: AUDIENCE,
        // The Step Functions endpoint beside a locked API must have keys of its own.
        SFN_ACCESS_KEYS: "sfn-test-key:sfn-test-secret",
      },
    },
  });
  admin = connect(TOKENS.admin);
  await admin.registerWorkflow({ name: "sec-hold", definition: WAIT_FOREVER });
  await admin.registerWorkflow({ name: "team-a-hold", definition: WAIT_FOREVER });
  running = (await admin.startExecution({ workflowName: "sec-hold" })).executionId;
  await admin.createSchedule({
    scheduleId: "sec-sched",
    workflowName: "sec-hold",
    intervalSeconds: 3600,
    paused: true,
  });
});

afterAll(async () => {
  for (const client of clients) client.close();
  await engine?.stop();
});

describe("the status of every RPC", () => {
  const now = () => Math.floor(Date.now() / 1000);
  const cases: [string, () => JetflowClient, "reader" | "operator" | "admin" | undefined][] = [
    ["no token", () => connect(""), undefined],
    ["an unknown token", () => connect("guessed"), undefined],
    [
      "an expired JWT",
      () => connect(signJwt({ sub: "late", roles: "admin", exp: now() - 300 }, jwtKeys.privateKey)),
      undefined,
    ],
    [
      "a JWT signed by the wrong key",
      () => connect(signJwt({ sub: "mallory", roles: "admin" }, wrongKeys.privateKey)),
      undefined,
    ],
    ["the reader token", () => connect(TOKENS.reader), "reader"],
    ["the operator token", () => connect(TOKENS.operator), "operator"],
    ["the admin token", () => connect(TOKENS.admin), "admin"],
    [
      "a JWT with the operator role",
      () => connect(signJwt({ sub: "carol", roles: ["operator"] }, jwtKeys.privateKey)),
      "operator",
    ],
  ];

  it("covers every RPC of the service", () => {
    const methods = Object.values(WorkflowServiceService).map((m) => m.path.split("/").pop());
    expect(Object.keys(RPCS).sort()).toEqual(methods.sort());
  });

  it.each(cases)("with %s", async (_, makeClient, role) => {
    const client = makeClient();
    const seen: Record<string, number> = {};
    const expected: Record<string, number> = {};
    for (const [method, rpc] of Object.entries(RPCS)) {
      seen[method] = await statusOf(rpc.call(client));
      expected[method] =
        role === undefined
          ? Code.UNAUTHENTICATED
          : RANK[role] >= RANK[rpc.role]
            ? (rpc.allowed ?? Code.OK)
            : Code.PERMISSION_DENIED;
    }
    expect(seen).toEqual(expected);
  });

  it("says no more than that to a caller without valid credentials", async () => {
    const err = await failure(connect("guessed").describeExecution(running));
    expect(err.details).toBe("missing or invalid credentials");
  });

  it("names the missing role", async () => {
    const err = await failure(connect(TOKENS.reader).startExecution({ workflowName: "sec-hold" }));
    expect(err.code).toBe(Code.PERMISSION_DENIED);
    expect(err.details).toBe('StartExecution needs the role "operator"; "reader-bot" has "reader"');
  });
});

describe("the HTTP/JSON API", () => {
  /** The status of one HTTPS request (node:https, the test CA, the client certificate). */
  function get(path: string, token?: string, init: { method?: string; body?: string } = {}): Promise<number> {
    const url = new URL(path, engine.httpUrl);
    return new Promise((resolve, reject) => {
      const req = httpsRequest(
        url,
        {
          method: init.method ?? "GET",
          servername: "localhost",
          ca: readFileSync(ca.ca),
          cert: readFileSync(clientCert.cert),
          key: readFileSync(clientCert.key),
          agent: false,
          headers: {
            "content-type": "application/json",
            ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
          },
        },
        (res) => {
          res.resume();
          res.on("end", () => resolve(res.statusCode ?? 0));
        },
      );
      req.on("error", reject);
      req.end(init.body);
    });
  }

  it("serves HTTPS with the gRPC port's certificate, and no plain HTTP", async () => {
    expect(engine.httpUrl).toMatch(/^https:/);
    await expect(fetch(engine.httpUrl.replace(/^https:/, "http:") + "/v1/workflows")).rejects.toThrow();
  });

  it("applies the same authentication and roles as gRPC", async () => {
    expect(await get("/v1/workflows")).toBe(401);
    expect(await get("/v1/workflows", "guessed")).toBe(401);
    expect(await get("/v1/workflows", TOKENS.reader)).toBe(200);
    expect(await get(`/v1/executions/${running}`, TOKENS.reader)).toBe(200);
    const start = { method: "POST", body: JSON.stringify({ workflowName: "sec-hold" }) };
    expect(await get("/v1/executions", TOKENS.reader, start)).toBe(403);
    expect(await get("/v1/executions", TOKENS.operator, start)).toBe(200);
  });
});

describe("a token scoped to workflow prefixes", () => {
  it("reaches its workflows and nothing else", async () => {
    const team = connect(TOKENS.team);
    const own = await team.startExecution({ workflowName: "team-a-hold" });
    expect((await team.describeExecution(own.executionId)).execution?.workflowName).toBe("team-a-hold");
    const denied = await failure(team.startExecution({ workflowName: "sec-hold" }));
    expect(denied.code).toBe(Code.PERMISSION_DENIED);
    expect(denied.details).toBe(
      '"team-a-bot" may not act on workflow "sec-hold": it is limited to the prefixes ["team-a-"]',
    );
    expect(await statusOf(team.describeExecution(running))).toBe(Code.PERMISSION_DENIED);
    expect(await statusOf(team.stopExecution({ executionId: running }))).toBe(Code.PERMISSION_DENIED);
    expect(await statusOf(team.listExecutions({}))).toBe(Code.PERMISSION_DENIED);
    expect(await statusOf(team.listDeadLetters())).toBe(Code.PERMISSION_DENIED);
    expect(await statusOf(team.startBulkStop({ filter: { namePrefix: "x-" } }))).toBe(Code.PERMISSION_DENIED);
    expect(await statusOf(team.startBulkStop({ filter: { workflowName: "sec-hold" } }))).toBe(
      Code.PERMISSION_DENIED,
    );
    expect(await statusOf(team.startBulkRedrive({ filter: { namePrefix: "x-" } }))).toBe(
      Code.PERMISSION_DENIED,
    );
    expect(await statusOf(team.startBulkRedrive({ filter: { workflowName: "sec-hold" } }))).toBe(
      Code.PERMISSION_DENIED,
    );
    expect((await team.listWorkflows()).workflows.map((w) => w.name)).toEqual(["team-a-hold"]);
    await team.stopExecution({ executionId: own.executionId });
  });
});

describe("identities in the history", () => {
  it("records who started and who stopped an execution", async () => {
    const operator = connect(signJwt({ sub: "dave", roles: "operator" }, jwtKeys.privateKey));
    const { executionId } = await operator.startExecution({ workflowName: "sec-hold" });
    await connect(TOKENS.operator).stopExecution({ executionId, error: "Halt" });
    let events: Awaited<ReturnType<JetflowClient["getExecutionHistory"]>>["events"] = [];
    await waitFor(async () => {
      events = (await admin.getExecutionHistory({ executionId })).events;
      return events.some((e) => e.details?.$case === "executionAborted");
    });
    const started = events.find((e) => e.details?.$case === "executionStarted")?.details;
    const aborted = events.find((e) => e.details?.$case === "executionAborted")?.details;
    expect(started?.value).toMatchObject({ identity: "dave" });
    expect(aborted?.value).toMatchObject({ error: "Halt", identity: "operator-bot" });
  });

  it("records who registered a workflow version, and logs who did what", async () => {
    const nc = await connectTo(engine.natsUrl);
    try {
      const kv = await new Kvm(jetstream(nc)).open(buckets.definitions);
      const entry = await kv.get("sec-hold.1");
      const record = decode(
        WorkflowDefinitionRecord,
        "WorkflowDefinitionRecord",
        entry?.value ?? new Uint8Array(),
        "sec-hold.1",
      );
      expect(record.registeredBy).toBe("admin-bot");
    } finally {
      await nc.close();
    }
    const log = engine.services["api-gateway"][0]?.printed ?? "";
    expect(log).toMatch(
      /"identity":"admin-bot","workflow":"sec-hold","version":1,"msg":"workflow registered"/,
    );
    expect(log).toMatch(
      /"identity":"dave","workflow":"sec-hold","executionId":"[^"]+","msg":"execution started"/,
    );
    expect(log).toMatch(/"identity":"operator-bot","executionId":"[^"]+","msg":"execution stop requested"/);
  });
});

describe("transport", () => {
  it("refuses clients without a certificate, with one from another CA, and in plaintext", async () => {
    const rogue = createTestCa("rogue").issue("client");
    for (const client of [
      connect(TOKENS.admin, mtls(null)),
      connect(TOKENS.admin, { ca: readFileSync(ca.ca) }),
      connect(TOKENS.admin, mtls(rogue)),
      connect(TOKENS.admin, false),
    ]) {
      expect(await statusOf(client.listWorkflows())).toBe(Code.UNAVAILABLE);
    }
  });

  it("serves a replaced certificate to new connections without a restart", async () => {
    const next = createTestCa("next");
    const nextServer = next.issue("server");
    const nextClient = next.issue("client");
    // Clients of the next CA will be trusted once the gateway reads the new client CA too.
    copyFileSync(nextServer.cert, serverCert.cert);
    copyFileSync(nextServer.key, serverCert.key);
    copyFileSync(next.ca, ca.ca);
    await waitFor(
      async () => {
        const client = connect(TOKENS.reader, mtls(nextClient, next.ca));
        const code = await statusOf(client.listWorkflows());
        client.close();
        return code === Code.OK;
      },
      { timeoutMs: 20_000, intervalMs: 250, message: "the gateway did not pick up the new certificate" },
    );
  });
});
