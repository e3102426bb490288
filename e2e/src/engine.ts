/**
 * The whole engine on loopback for end-to-end tests: a nats-server and each of the five services
 * as its own OS process (from the built dist/main.js), so tests can kill -9 and restart any of
 * them. Logs of every process go to files in a temp dir (`logDir`).
 */
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { createWriteStream, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { freePorts, startNatsServer, waitFor } from "@jetflow/testing";
import type { NatsCluster, NatsServer } from "@jetflow/testing";
import { createTestClient } from "./client";
import type { TestClient } from "./client";

export const SERVICE_NAMES = [
  "state-manager",
  "orchestrator",
  "dispatcher",
  "result-ingestor",
  "api-gateway",
] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

const ROOT = resolve(__dirname, "../..");

/** One OS process of a service (or a worker), restartable with the same environment. */
export class ManagedProcess {
  private child: ChildProcess | undefined;
  private exit: Promise<number | null> = Promise.resolve(null);
  private output = "";

  constructor(
    readonly label: string,
    private readonly script: string,
    private readonly env: NodeJS.ProcessEnv,
    private readonly logFile: string,
  ) {}

  /** The `HEALTH_PORT` the process was given, if any. */
  get healthPort(): number | undefined {
    const port = Number(this.env.HEALTH_PORT ?? 0);
    return port > 0 ? port : undefined;
  }

  /** The `GRPC_ADDR` the process was given (an api-gateway's own address), if any. */
  get grpcAddress(): string | undefined {
    return this.env.GRPC_ADDR;
  }

  /** Where the process writes its output (appended across restarts). */
  get logPath(): string {
    return this.logFile;
  }

  /** Sends `signal` without waiting, e.g. SIGTERM to watch a graceful stop from outside. */
  signal(signal: NodeJS.Signals): void {
    this.child?.kill(signal);
  }

  /** Resolves with the exit code when the current process ends (null when killed by a signal). */
  exited(): Promise<number | null> {
    return this.exit;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** What the process printed (stdout and stderr), for readiness checks. */
  get printed(): string {
    return this.output;
  }

  start(): void {
    if (this.running) throw new Error(`${this.label} is already running`);
    this.output = "";
    const log = createWriteStream(this.logFile, { flags: "a" });
    const child = spawn(process.execPath, [this.script], {
      env: this.env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const collect = (chunk: Buffer) => {
      log.write(chunk);
      if (this.output.length < 1_000_000) this.output += chunk.toString();
    };
    child.stdout?.on("data", collect);
    child.stderr?.on("data", collect);
    this.exit = new Promise((resolveExit) => child.once("exit", (code) => resolveExit(code)));
    this.child = child;
  }

  /** Waits until the process logs `message` (a pino msg) after its latest start. */
  async waitForLog(message: string, timeoutMs = 60_000): Promise<void> {
    await waitFor(() => this.output.includes(`"msg":"${message}"`), {
      timeoutMs,
      message: `${this.label} did not log "${message}"; see ${this.logFile}`,
    });
  }

  /** SIGKILL: a crash, no clean-up. */
  async kill(): Promise<void> {
    if (!this.running) return;
    this.child?.kill("SIGKILL");
    await this.exit;
  }

  /** SIGTERM and wait for the exit code. */
  async stop(timeoutMs = 30_000): Promise<number | null> {
    if (!this.running) return this.exit;
    this.child?.kill("SIGTERM");
    const timer = setTimeout(() => this.child?.kill("SIGKILL"), timeoutMs);
    try {
      return await this.exit;
    } finally {
      clearTimeout(timer);
    }
  }
}

export interface EngineOptions {
  /**
   * Processes per service. Default 1 each. Several api-gateways listen on ports of their own and
   * `grpcAddress` names them all.
   */
  replicas?: Partial<Record<ServiceName, number>>;
  /** Extra environment for every service. */
  env?: Record<string, string>;
  /**
   * Extra environment per service, applied after `env`, e.g. its own `NATS_USER`/`NATS_PASSWORD`.
   * Default none.
   */
  serviceEnv?: Partial<Record<ServiceName, Record<string, string>>>;
  /**
   * Run against this NATS instead of starting a server: a server started with a locked-down config,
   * or a cluster (services get every node's URL in `NATS_URL`). The caller starts and disposes it;
   * `Engine.nats` is the server, or the cluster's first node. Default: a fresh server per engine.
   */
  nats?: NatsServer | NatsCluster;
  /**
   * Variables for the environment of the server this engine starts (not of a given `nats`), e.g.
   * `{ GOMEMLIMIT: "240MiB" }`. Default none.
   */
  natsServerEnv?: Record<string, string>;
  /**
   * Give every service process its own `HEALTH_PORT` on 127.0.0.1 (see `ManagedProcess.healthPort`).
   * Default false.
   */
  healthPorts?: boolean;
}

function isCluster(nats: NatsServer | NatsCluster): nats is NatsCluster {
  return "urls" in nats;
}

export interface Engine {
  nats: NatsServer;
  natsUrl: string;
  grpcAddress: string;
  /**
   * The first api-gateway's HTTP/JSON API and console, e.g. "http://127.0.0.1:43121"; https when
   * the gateway has API_TLS_CERT (and not HTTP_TLS=off).
   */
  httpUrl: string;
  /** The first api-gateway's Step Functions API, e.g. "http://127.0.0.1:43122". */
  sfnUrl: string;
  client: TestClient;
  logDir: string;
  services: Record<ServiceName, ManagedProcess[]>;
  /** Kill -9 every process of a service, then start them again and wait until ready. */
  crashAndRestart(name: ServiceName): Promise<void>;
  /** Starts every stopped service process again and waits until each is ready. */
  startService(name: ServiceName): Promise<void>;
  stop(): Promise<void>;
}

/** True when the gateway serves its HTTP port over TLS (see the gateway's HTTP_TLS). */
function httpsOf(options: EngineOptions): boolean {
  const env = { ...options.env, ...options.serviceEnv?.["api-gateway"] };
  return env["API_TLS_CERT"] !== undefined && env["API_TLS_CERT"] !== "" && env["HTTP_TLS"] !== "off";
}

/** Starts nats-server and the five services; resolves when the gateway serves gRPC. */
export async function startEngine(options: EngineOptions = {}): Promise<Engine> {
  const logDir = mkdtempSync(join(tmpdir(), "jetflow-e2e-"));
  const external = options.nats;
  const nats =
    external === undefined
      ? await startNatsServer({ serverEnv: options.natsServerEnv })
      : isCluster(external)
        ? external.servers[0]
        : external;
  if (nats === undefined) throw new Error("startEngine: the given cluster has no nodes");
  const natsUrl = external !== undefined && isCluster(external) ? external.urls.join(",") : nats.url;
  const gateways = options.replicas?.["api-gateway"] ?? 1;
  // Several gateways cannot share a port: each gets its own, and the client a target listing them
  // all (grpc-js fails over between them, as a Kubernetes Service would).
  // Each gateway serves the HTTP API and console on a port of its own; `httpUrl` is the first.
  // Every port is picked in one call (health and Step Functions ports too) so that no two
  // processes get the same one; the Step Functions API is on a third port, `sfnUrl` the first.
  const counts = SERVICE_NAMES.map((name) => options.replicas?.[name] ?? 1);
  const healthCount = options.healthPorts === true ? counts.reduce((a, b) => a + b, 0) : 0;
  const ports = await freePorts(3 * gateways + healthCount);
  const grpcPorts = ports.splice(0, gateways);
  const httpPorts = ports.splice(0, gateways);
  const sfnPorts = ports.splice(0, gateways);
  const healthPorts = ports;
  const grpcAddress =
    gateways > 1
      ? `ipv4:${grpcPorts.map((port) => `127.0.0.1:${port}`).join(",")}`
      : `127.0.0.1:${grpcPorts[0] ?? 0}`;
  const baseEnv: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    NATS_URL: natsUrl,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "info",
    GRPC_ADDR: `127.0.0.1:${grpcPorts[0] ?? 0}`,
    SHUTDOWN_TIMEOUT_MS: "10000",
    ...options.env,
  };
  const services = {} as Record<ServiceName, ManagedProcess[]>;
  for (const name of SERVICE_NAMES) {
    const count = options.replicas?.[name] ?? 1;
    const env = { ...baseEnv, ...options.serviceEnv?.[name] };
    const ports = healthPorts.splice(0, count);
    const processEnv = (i: number): NodeJS.ProcessEnv => ({
      ...env,
      ...(ports[i] === undefined ? {} : { HEALTH_PORT: String(ports[i]), HEALTH_HOST: "127.0.0.1" }),
      ...(name === "api-gateway" && gateways > 1 ? { GRPC_ADDR: `127.0.0.1:${grpcPorts[i] ?? 0}` } : {}),
      ...(name === "api-gateway" ? { HTTP_PORT: String(httpPorts[i] ?? 0), HTTP_HOST: "127.0.0.1" } : {}),
      ...(name === "api-gateway" ? { SFN_PORT: String(sfnPorts[i] ?? 0), SFN_HOST: "127.0.0.1" } : {}),
    });
    services[name] = Array.from(
      { length: count },
      (_, i) =>
        new ManagedProcess(
          `${name}#${i}`,
          join(ROOT, "services", name, "dist", "main.js"),
          processEnv(i),
          join(logDir, `${name}-${i}.log`),
        ),
    );
  }
  const startService = async (name: ServiceName) => {
    for (const proc of services[name]) if (!proc.running) proc.start();
    await Promise.all(services[name].map((p) => p.waitForLog("service started")));
  };
  const client = createTestClient(grpcAddress);
  const stop = async () => {
    client.close();
    await Promise.all(SERVICE_NAMES.flatMap((name) => services[name].map((p) => p.stop())));
    if (external === undefined) await nats.dispose();
  };
  try {
    for (const name of SERVICE_NAMES) await startService(name);
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    nats,
    natsUrl,
    grpcAddress,
    httpUrl: `${httpsOf(options) ? "https" : "http"}://127.0.0.1:${httpPorts[0] ?? 0}`,
    sfnUrl: `http://127.0.0.1:${sfnPorts[0] ?? 0}`,
    client,
    logDir,
    services,
    startService,
    async crashAndRestart(name) {
      await Promise.all(services[name].map((p) => p.kill()));
      await startService(name);
    },
    stop,
  };
}
