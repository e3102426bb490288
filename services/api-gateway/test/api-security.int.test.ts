// The gateway's locks that need no other service, in-process against a real nats-server: HTTPS on
// the HTTP/JSON port with the API's certificate (mutual TLS, certificates re-read, plaintext
// refused), API tokens from a file that changes while the gateway runs, and per-caller rate
// limits on both front doors. Certificates come from openssl.
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import type { RequestOptions } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ServiceError } from "@grpc/grpc-js";
import { Code, JetflowError, createClient } from "@jetflow/client";
import type { JetflowClient } from "@jetflow/client";
import { connectTo, startNatsServer, waitFor } from "@jetflow/testing";
import type { NatsServer } from "@jetflow/testing";
import type { NatsConnection } from "@nats-io/transport-node";
import pino from "pino";
import { hashToken } from "../src/auth";
import { createGateway } from "../src/gateway";

interface CertFiles {
  cert: string;
  key: string;
}

/** A throw-away CA; its leaves serve 127.0.0.1 and localhost, as servers and as clients. */
function createTestCa(name: string): { ca: string; issue(leaf: string): CertFiles } {
  const dir = mkdtempSync(join(tmpdir(), `jetflow-gw-ca-${name}-`));
  const openssl = (args: string[]) =>
    execFileSync(process.env.OPENSSL_BIN ?? "openssl", args, {
      cwd: dir,
      stdio: ["ignore", "ignore", "pipe"],
    });
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
  openssl([
    "req",
    "-x509",
    ...ec,
    "-keyout",
    "ca.key",
    "-out",
    "ca.pem",
    "-days",
    "2",
    "-subj",
    `/CN=${name}`,
  ]);
  writeFileSync(
    join(dir, "leaf.ext"),
    "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\nbasicConstraints=CA:FALSE\n",
  );
  let serial = 1;
  return {
    ca: join(dir, "ca.pem"),
    issue(leaf) {
      openssl(["req", ...ec, "-keyout", `${leaf}.key`, "-out", `${leaf}.csr`, "-subj", `/CN=${leaf}`]);
      openssl(
        ["x509", "-req", "-in", `${leaf}.csr`, "-CA", "ca.pem", "-CAkey", "ca.key", "-days", "2"].concat([
          "-set_serial",
          String(serial++),
          "-extfile",
          "leaf.ext",
          "-out",
          `${leaf}.pem`,
        ]),
      );
      return { cert: join(dir, `${leaf}.pem`), key: join(dir, `${leaf}.key`) };
    },
  };
}

const TOKENS = {
  admin: "admin-secret",
  reader: "reader-secret",
  limited: "limited-secret",
  late: "late-secret",
};
const entry = (name: string, role: string, token: string) => ({ name, role, sha256: hashToken(token) });
const RATE = { perSecond: 5, burst: 5, maxCallers: 1000 };

let server: NatsServer;
let nc: NatsConnection;
let gateway: ReturnType<typeof createGateway>;
let ca: ReturnType<typeof createTestCa>;
let serverCert: CertFiles;
let clientCert: CertFiles;
let tokensFile: string;
const clients: JetflowClient[] = [];
const logged: string[] = [];

function writeTokens(entries: object[]): void {
  // Written beside and renamed into place, as the kubelet swaps a Secret's files.
  writeFileSync(`${tokensFile}.next`, JSON.stringify(entries, null, 2));
  copyFileSync(`${tokensFile}.next`, tokensFile);
}

interface HttpAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One HTTPS request with node:https, trusting `trust` and presenting `cert` (null: none). */
function https(
  path: string,
  options: { token?: string; cert?: CertFiles | null; trust?: string; method?: string; body?: string } = {},
): Promise<HttpAnswer> {
  const cert = options.cert === undefined ? clientCert : options.cert;
  const requestOptions: RequestOptions = {
    host: "127.0.0.1",
    // The certificate names localhost too; an IP address is no TLS server name (RFC 6066).
    servername: "localhost",
    port: gateway.httpPort,
    path,
    method: options.method ?? "GET",
    ca: readFileSync(options.trust ?? ca.ca),
    ...(cert ? { cert: readFileSync(cert.cert), key: readFileSync(cert.key) } : {}),
    headers: {
      "content-type": "application/json",
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
    },
    // A fresh connection each time: a reused one would keep the certificate it began with.
    agent: false,
  };
  return new Promise((resolve, reject) => {
    const req = httpsRequest(requestOptions, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString(),
        }),
      );
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(options.body);
  });
}

function grpcClient(token: string): JetflowClient {
  const client = createClient({
    address: `127.0.0.1:${gateway.port}`,
    retries: 0,
    deadlineMs: 15_000,
    token,
    tls: { ca: readFileSync(ca.ca), cert: readFileSync(clientCert.cert), key: readFileSync(clientCert.key) },
  });
  clients.push(client);
  return client;
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

beforeAll(async () => {
  ca = createTestCa("gateway");
  serverCert = ca.issue("server");
  clientCert = ca.issue("client");
  tokensFile = join(mkdtempSync(join(tmpdir(), "jetflow-gw-tokens-")), "tokens.json");
  writeTokens([
    entry("admin-bot", "admin", TOKENS.admin),
    entry("reader-bot", "reader", TOKENS.reader),
    entry("limited-bot", "reader", TOKENS.limited),
  ]);
  server = await startNatsServer();
  nc = await connectTo(server.url);
  gateway = createGateway({
    nc,
    // Info and up kept in `logged`: the test reads what the gateway says about a broken file.
    log: pino({ level: "info" }, { write: (line: string) => void logged.push(line) }),
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
      tls: {
        certFile: serverCert.cert,
        keyFile: serverCert.key,
        clientCaFile: ca.ca,
        reloadIntervalMs: 1000,
      },
      httpTls: "auto",
      auth: { mode: "required", tokens: [], tokensFile, tokensReloadMs: 60_000 },
      rateLimit: RATE,
    },
  });
  await gateway.start();
});

afterAll(async () => {
  for (const client of clients) client.close();
  await gateway?.stop();
  await nc?.close();
  await server?.dispose();
});

describe("HTTPS on the HTTP/JSON port", () => {
  it("answers over TLS with the gRPC port's certificate and the same authentication", async () => {
    expect((await https("/v1/workflows", { token: TOKENS.reader })).status).toBe(200);
    const refused = await https("/v1/workflows", { token: "guessed" });
    expect(refused.status).toBe(401);
    expect(JSON.parse(refused.body)).toEqual({
      code: 16,
      message: "missing or invalid credentials",
      details: [],
    });
    expect((await https("/openapi.json")).status).toBe(200);
  });

  it("refuses plain HTTP, a client without a certificate, and one from another CA", async () => {
    const plain = new Promise<number>((resolve, reject) => {
      const req = httpRequest(
        { host: "127.0.0.1", port: gateway.httpPort, path: "/v1/workflows", agent: false },
        (res) => resolve(res.statusCode ?? 0),
      );
      req.on("error", reject);
      req.end();
    });
    await expect(plain).rejects.toThrow(/socket hang up|ECONNRESET/);
    await expect(https("/v1/workflows", { token: TOKENS.reader, cert: null })).rejects.toThrow();
    const rogue = createTestCa("rogue").issue("client");
    await expect(https("/v1/workflows", { token: TOKENS.reader, cert: rogue })).rejects.toThrow();
  });

  it("serves a replaced certificate to new connections without a restart", async () => {
    const next = createTestCa("next");
    const nextServer = next.issue("server");
    const nextClient = next.issue("client");
    copyFileSync(nextServer.cert, serverCert.cert);
    copyFileSync(nextServer.key, serverCert.key);
    // Clients of the next CA are trusted once the gateway reads the new client CA too.
    copyFileSync(next.ca, ca.ca);
    await waitFor(
      () =>
        https("/v1/workflows", { token: TOKENS.reader, cert: nextClient, trust: next.ca }).then(
          (answer) => answer.status === 200,
          () => false,
        ),
      { timeoutMs: 20_000, intervalMs: 250, message: "the HTTPS port did not pick up the new certificate" },
    );
    // The gRPC port took the same files.
    const client = createClient({
      address: `127.0.0.1:${gateway.port}`,
      retries: 0,
      token: TOKENS.admin,
      tls: {
        ca: readFileSync(next.ca),
        cert: readFileSync(nextClient.cert),
        key: readFileSync(nextClient.key),
      },
    });
    clients.push(client);
    await waitFor(
      () =>
        client.listWorkflows().then(
          () => true,
          () => false,
        ),
      { timeoutMs: 20_000, intervalMs: 250, message: "the gRPC port did not pick up the new certificate" },
    );
    clientCert = nextClient;
    ca = { ...ca, ca: next.ca };
  });
});

describe("API tokens from a file", () => {
  it("lets an added token in and locks a removed one out without a restart", async () => {
    expect((await https("/v1/workflows", { token: TOKENS.late })).status).toBe(401);
    writeTokens([
      entry("admin-bot", "admin", TOKENS.admin),
      entry("limited-bot", "reader", TOKENS.limited),
      entry("late-bot", "operator", TOKENS.late),
    ]);
    await waitFor(async () => (await https("/v1/workflows", { token: TOKENS.late })).status === 200, {
      timeoutMs: 20_000,
      intervalMs: 250,
      message: "the added token was not let in",
    });
    // The reader token was removed with the same write.
    expect((await https("/v1/workflows", { token: TOKENS.reader })).status).toBe(401);
    expect((await failure(grpcClient(TOKENS.reader).listWorkflows())).code).toBe(Code.UNAUTHENTICATED);
    expect((await grpcClient(TOKENS.late).listWorkflows()).workflows).toEqual([]);
  });

  it("keeps the tokens in force when the new file is broken", async () => {
    writeFileSync(tokensFile, '[\n  {"name": "admin-bot", "role": "admin"},\n  {"name": "x", "role": }\n]');
    const report = await waitFor(() => logged.find((line) => line.includes("api token file not reloaded")), {
      timeoutMs: 20_000,
      message: "the broken file was not reported",
    });
    expect(JSON.parse(report)).toMatchObject({
      level: 50,
      file: tokensFile,
      problems: [
        "line 2: [0].sha256 must be the token's sha256 as 64 hex digits (not the token itself)",
        expect.stringMatching(/^line 3: \[1\] is not valid JSON: /),
      ],
    });
    expect((await https("/v1/workflows", { token: TOKENS.late })).status).toBe(200);
    expect((await https("/v1/workflows", { token: TOKENS.admin })).status).toBe(200);
  });
});

describe("rate limits", () => {
  it("answers RESOURCE_EXHAUSTED on gRPC and 429 with Retry-After on HTTP once a caller's bucket is empty", async () => {
    const client = grpcClient(TOKENS.limited);
    const codes: number[] = [];
    let limited: JetflowError | undefined;
    // A burst of 5 at 5 per second: well within 20 calls the bucket runs dry.
    for (let i = 0; i < 20 && limited === undefined; i++) {
      try {
        await client.listWorkflows();
        codes.push(Code.OK);
      } catch (err) {
        if (!(err instanceof JetflowError)) throw err;
        codes.push(err.code);
        limited = err;
      }
    }
    expect(limited?.code).toBe(Code.RESOURCE_EXHAUSTED);
    expect(limited?.details).toMatch(
      /^rate limit exceeded: at most 5 calls per second \(bursts of 5\); retry in \d+ ms$/,
    );
    expect((limited?.cause as ServiceError).metadata.get("retry-after")).toEqual(["1"]);
    expect(codes.filter((code) => code === Code.OK).length).toBeGreaterThanOrEqual(5);
    // The same caller's bucket counts its HTTP calls too.
    const answer = await https("/v1/workflows", { token: TOKENS.limited });
    expect(answer.status).toBe(429);
    expect(answer.headers["retry-after"]).toBe("1");
    expect(JSON.parse(answer.body)).toMatchObject({ code: Code.RESOURCE_EXHAUSTED });
    // Another identity is not held back by it.
    expect((await https("/v1/workflows", { token: TOKENS.admin })).status).toBe(200);
    // And the limited one is let in again after the wait.
    await waitFor(async () => (await https("/v1/workflows", { token: TOKENS.limited })).status === 200, {
      timeoutMs: 20_000,
      intervalMs: 300,
      message: "the limited caller was not let in again",
    });
  });

  it("counts refused credentials against the caller's address", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 20 && !statuses.includes(429); i++) {
      statuses.push((await https("/v1/workflows", { token: `guess-${i}` })).status);
    }
    expect(statuses).toContain(429);
    expect(statuses.filter((status) => status === 401).length).toBeGreaterThanOrEqual(1);
  });
});
