import { DEFAULT_MAX_COMMIT_BATCH, EnvReader, readBaseConfig } from "@jetflow/service-runtime";
import type { BaseConfig } from "@jetflow/service-runtime";
import { readAuthConfig } from "./auth";
import type { AuthConfig } from "./auth";
import { readApiTlsConfig } from "./tls";
import type { ApiTlsConfig } from "./tls";
import { readRateLimitConfig } from "./rate-limit";
import type { RateLimitConfig } from "./rate-limit";
import type { BulkProcessingConfig } from "./bulk-operations";
import { readSfnConfig } from "./sfn/config";
import type { SfnConfig } from "./sfn/config";

/** Configuration of the api-gateway. */
export interface Config extends BaseConfig {
  /** GRPC_ADDR: host:port the gRPC server binds. Default 127.0.0.1:50051 (0.0.0.0:50051 in containers). */
  grpcAddress: string;
  /** MAX_PAYLOAD_BYTES: largest input or output JSON accepted. Default 262144 (256 KiB, as Step Functions). */
  maxPayloadBytes: number;
  /** GATEWAY_STATE_TIMEOUT_MS: how long to wait for the state-manager (and heartbeat answers). Default 10000. */
  stateTimeoutMs: number;
  /**
   * GATEWAY_MAX_COMMIT_BATCH: starts committed in one request to the state-manager at most
   * (`jetflow.state.commits`); 1 sends each alone. Default 64.
   */
  maxCommitBatch: number;
  /**
   * MAX_DEFINITION_BYTES: largest workflow definition accepted. Default 524288 (512 KiB); at most
   * 900 KiB, so that a definition record fits NATS's default 1 MiB message.
   */
  maxDefinitionBytes: number;
  /**
   * GATEWAY_PROTO_DIR: the directory holding `jetflow/v1/*.proto`, read at start for server
   * reflection. Default: `proto/` of the @jetflow/contracts package, else the repository's `proto/`.
   */
  protoDir: string | undefined;
  /** HTTP_PORT: port of the HTTP/JSON API and the web console; 0 picks a free port. Default 8090. */
  httpPort: number;
  /** HTTP_HOST: interface the HTTP server binds. Default: the host of GRPC_ADDR. */
  httpHost: string;
  /**
   * CONSOLE_DIR: the built web console (index.html and assets). Default: `dist/` of the
   * @jetflow/console package; without it the API is served and the console pages are not.
   */
  consoleDir: string | undefined;
  /** API_AUTH, API_TOKENS, API_JWT_*: who may call the API (see docs/security.md). */
  auth: AuthConfig;
  /** API_TLS_CERT, API_TLS_KEY, API_TLS_CLIENT_CA, API_TLS_RELOAD_MS; undefined: plaintext. */
  tls: ApiTlsConfig | undefined;
  /**
   * HTTP_TLS: "auto" (default) serves HTTPS on HTTP_PORT with the API's certificate whenever
   * API_TLS_CERT is set; "off" serves plain HTTP (behind a TLS-terminating proxy), refused on a
   * non-loopback HTTP_HOST when API_TLS=required.
   */
  httpTls: "auto" | "off";
  /** API_RATE_LIMIT_PER_S, API_RATE_LIMIT_BURST, API_RATE_LIMIT_CALLERS: calls per caller (off by default). */
  rateLimit: RateLimitConfig;
  /** The Step Functions API (SFN_*); see sfn/config.ts. */
  sfn: SfnConfig;
  /**
   * Bulk operations: BULK_BATCH_SIZE (executions per batch, default 100), BULK_BATCH_INTERVAL_MS
   * (pause between batches, default 100), BULK_LEASE_MS (how long a replica holds an operation
   * without writing progress, default 15000), BULK_POLL_MS (how often idle replicas look for work,
   * default 1000).
   */
  bulk: BulkProcessingConfig;
  /**
   * EXECUTION_LIST_WINDOW: how many of the newest executions each gateway holds in memory for
   * ListExecutions; pages past them, and the engine stats' counts once there are more executions,
   * are read from the bucket jetflow_executions (docs/api.md). Default 10000.
   */
  executionListWindow: number;
  /** SCHEDULER_TICK_MS: how often the replica holding the scheduler lease looks at the schedules. Default 1000. */
  schedulerTickMs: number;
  /**
   * SCHEDULER_LEASE_MS: how long the scheduler lease lasts without renewal (the time another
   * replica takes over after the holder died). Default 10000.
   */
  schedulerLeaseMs: number;
}

/** The host part of a host:port address, without the brackets of an IPv6 address. */
function hostOf(address: string): string {
  const host = address.slice(0, address.lastIndexOf(":"));
  return host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
}

/** True for an address only this machine can reach. */
export function isLoopbackHost(host: string): boolean {
  return host === "localhost" || host === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/**
 * Reads the api-gateway's configuration from `env` (never from process.env directly).
 * @throws ConfigError naming every variable that is wrong
 */
export function loadConfig(env: Readonly<Record<string, string | undefined>>): Config {
  const reader = new EnvReader(env);
  const base = readBaseConfig(reader);
  const grpcAddress = reader.string("GRPC_ADDR", "127.0.0.1:50051");
  if (!/^[^\s:]+:\d{1,5}$/.test(grpcAddress) && !/^\[[0-9a-fA-F:]+\]:\d{1,5}$/.test(grpcAddress)) {
    reader.problems.push(`GRPC_ADDR must be host:port, got "${grpcAddress}"`);
  }
  const config: Config = {
    ...base,
    grpcAddress,
    maxPayloadBytes: reader.integer("MAX_PAYLOAD_BYTES", 256 * 1024, 1024, 16 * 1024 * 1024),
    stateTimeoutMs: reader.integer("GATEWAY_STATE_TIMEOUT_MS", 10_000, 100, 600_000),
    maxCommitBatch: reader.integer("GATEWAY_MAX_COMMIT_BATCH", DEFAULT_MAX_COMMIT_BATCH, 1, 1_000),
    maxDefinitionBytes: reader.integer("MAX_DEFINITION_BYTES", 512 * 1024, 1024, 900 * 1024),
    protoDir: reader.optionalString("GATEWAY_PROTO_DIR"),
    httpPort: reader.integer("HTTP_PORT", 8090, 0, 65535),
    httpHost: reader.string("HTTP_HOST", hostOf(grpcAddress)),
    consoleDir: reader.optionalString("CONSOLE_DIR"),
    auth: readAuthConfig(reader),
    tls: readApiTlsConfig(reader),
    httpTls: reader.oneOf("HTTP_TLS", ["auto", "off"] as const, "auto"),
    rateLimit: readRateLimitConfig(reader),
    sfn: readSfnConfig(reader, hostOf(grpcAddress)),
    bulk: {
      batchSize: reader.integer("BULK_BATCH_SIZE", 100, 1, 10_000),
      batchIntervalMs: reader.integer("BULK_BATCH_INTERVAL_MS", 100, 0, 600_000),
      leaseMs: reader.integer("BULK_LEASE_MS", 15_000, 1_000, 3_600_000),
      pollMs: reader.integer("BULK_POLL_MS", 1_000, 50, 600_000),
    },
    executionListWindow: reader.integer("EXECUTION_LIST_WINDOW", 10_000, 100, 1_000_000),
    schedulerTickMs: reader.integer("SCHEDULER_TICK_MS", 1000, 50, 60_000),
    schedulerLeaseMs: reader.integer("SCHEDULER_LEASE_MS", 10_000, 1000, 600_000),
  };
  // The Step Functions endpoint authenticates with its own access keys (SigV4); with the API locked,
  // it must not be the open door beside it.
  if (
    config.auth.mode === "required" &&
    config.sfn.port !== undefined &&
    config.sfn.accessKeys === undefined
  ) {
    reader.problems.push(
      "SFN_ACCESS_KEYS is required when API authentication is on (API_AUTH=required) and SFN_PORT is set" +
        " (or SFN_ACCESS_KEYS_FILE)",
    );
  }
  // As the gRPC port: with API_TLS=required nothing reachable from other machines is plaintext.
  if (config.httpTls === "off" && env["API_TLS"] === "required" && !isLoopbackHost(config.httpHost)) {
    reader.problems.push(
      `HTTP_TLS=off serves plain HTTP on "${config.httpHost}", refused with API_TLS=required: bind HTTP_HOST to a loopback address or drop HTTP_TLS`,
    );
  }
  reader.done();
  return config;
}
