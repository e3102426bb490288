import { readFile } from "node:fs/promises";
import { connect, credsAuthenticator } from "@nats-io/transport-node";
import type { NatsConnection, TlsOptions } from "@nats-io/transport-node";
import { connectionOptions, watchConnection } from "@jetflow/contracts/internal";
import { WorkerError } from "./errors";
import { silentLogger } from "./logger";
import { Registry, serveWorkerMetrics } from "./metrics";
import { startTracing } from "./tracing";
import type { MetricsServer } from "./metrics";
import type { TaskHandlers, Worker, WorkerOptions } from "./types";
import { createWorker } from "./worker";

/** Options of {@link runWorker}: the worker's, minus the connection, plus how to connect. */
export interface RunWorkerOptions extends Omit<WorkerOptions, "nc" | "handlers"> {
  /**
   * NATS server URLs. Default: `NATS_URL` (comma-separated), else `nats://127.0.0.1:4222`, NATS's
   * default port (the local engine of `./scripts/start.sh` listens on `nats://127.0.0.1:4250`).
   */
  servers?: string | string[];
  /** The connection's name, as servers show it. Default "jetflow-worker". */
  connectionName?: string;
  /** Stop and drain on SIGTERM and SIGINT. Default true. */
  handleSignals?: boolean;
  /** NATS user and password. Default: `NATS_USER` and `NATS_PASSWORD`. */
  user?: string;
  pass?: string;
  /** Path of a NATS .creds file. Default: `NATS_CREDS`. */
  credsFile?: string;
  /**
   * TLS to NATS: PEM files of a CA to trust and, for servers that verify clients, a certificate and
   * key. When set, a server without TLS is refused. Default: `NATS_TLS_CA`, `NATS_TLS_CERT`,
   * `NATS_TLS_KEY`; none of them: plaintext unless the URL says `tls://`.
   */
  tls?: { caFile?: string; certFile?: string; keyFile?: string };
  /** Prefix of the reply inboxes, when the NATS user may only use its own. Default: `NATS_INBOX_PREFIX`. */
  inboxPrefix?: string;
  /**
   * Serve Prometheus metrics at `GET /metrics` on this port (0: any free port; see
   * `RunningWorker.metricsPort`). Default: `JETFLOW_WORKER_METRICS_PORT`, else no metrics.
   */
  metricsPort?: number;
  /** Interface of the metrics endpoint. Default: `JETFLOW_WORKER_METRICS_HOST`, else 0.0.0.0. */
  metricsHost?: string;
  /** The environment the defaults above come from. Default `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
}

/**
 * The connection settings `runWorker` uses, for a connection of your own: a ping every 3 s and
 * two missed pongs drop a silently dead connection in under 10 s (the client default takes 4
 * minutes), then reconnect forever. Spread them into `connect({ servers, ...workerConnectionOptions() })`.
 */
export function workerConnectionOptions(): ReturnType<typeof connectionOptions> {
  return connectionOptions();
}

/** A worker started by {@link runWorker}, with the connection it owns. */
export interface RunningWorker {
  readonly worker: Worker;
  readonly nc: NatsConnection;
  /** The port serving `/metrics`, when metrics are on. */
  readonly metricsPort: number | undefined;
  /** Stops the worker, then drains and closes the connection. Idempotent. */
  shutdown(): Promise<void>;
}

/**
 * The whole `main` of a worker process: connects to NATS (reconnecting forever, pinging every 3 s
 * so that a silently dead connection is dropped and replaced in under 10 s), starts a worker
 * with `handlers` and, unless told otherwise, shuts down gracefully on SIGTERM or SIGINT.
 * Unset options come from the environment: `NATS_URL`, `NATS_USER`/`NATS_PASSWORD` or
 * `NATS_CREDS`, `NATS_TLS_CA`/`NATS_TLS_CERT`/`NATS_TLS_KEY`, `NATS_INBOX_PREFIX`,
 * `JETFLOW_WORKER_ENSURE_STREAMS=false` for a worker whose NATS user may not create streams, and
 * `JETFLOW_WORKER_METRICS_PORT` to serve metrics.
 *
 * @throws WorkerError when the worker cannot start (the connection is closed again) or
 * `JETFLOW_WORKER_METRICS_PORT` is not a port number
 */
export async function runWorker(
  handlers: TaskHandlers,
  options: RunWorkerOptions = {},
): Promise<RunningWorker> {
  const {
    servers,
    connectionName,
    handleSignals = true,
    user,
    pass,
    credsFile,
    inboxPrefix,
    tls,
    metricsPort = metricsPortFrom(options.env ?? process.env),
    metricsHost,
    env = process.env,
    ...workerOptions
  } = options;
  // Off (nothing registered, spans are no-ops) unless OTEL_EXPORTER_OTLP_ENDPOINT is set.
  const tracing = await startTracing(connectionName ?? "jetflow-worker", env);
  const creds = credsFile ?? nonEmpty(env["NATS_CREDS"]);
  const nc = await connect({
    servers: servers ?? (env["NATS_URL"] ?? "nats://127.0.0.1:4222").split(",").map((s) => s.trim()),
    name: connectionName ?? "jetflow-worker",
    ...connectionOptions(),
    // No stack captured per publish/request (a large share of a busy worker's CPU).
    noAsyncTraces: true,
    user: user ?? nonEmpty(env["NATS_USER"]),
    pass: pass ?? nonEmpty(env["NATS_PASSWORD"]),
    authenticator: creds ? credsAuthenticator(await readFile(creds)) : undefined,
    inboxPrefix: inboxPrefix ?? nonEmpty(env["NATS_INBOX_PREFIX"]),
    tls: tls ?? tlsFromEnv(env),
  });
  watchConnection(nc, workerOptions.logger ?? silentLogger, connectionName ?? "jetflow-worker");
  const ensureStreams = workerOptions.ensureStreams ?? env["JETFLOW_WORKER_ENSURE_STREAMS"] !== "false";
  const metrics = metricsPort === undefined ? undefined : new Registry();
  const worker = createWorker({
    ...workerOptions,
    ensureStreams,
    nc,
    handlers,
    metrics: workerOptions.metrics ?? metrics,
  });
  let metricsServer: MetricsServer | undefined;
  try {
    if (metrics && metricsPort !== undefined) {
      const host = metricsHost ?? nonEmpty(env["JETFLOW_WORKER_METRICS_HOST"]) ?? "0.0.0.0";
      metricsServer = await serveWorkerMetrics(metrics, nc, host, metricsPort);
    }
    await worker.start();
  } catch (err) {
    await metricsServer?.close();
    await nc.close();
    throw err;
  }
  let stopping: Promise<void> | undefined;
  const shutdown = (): Promise<void> => {
    stopping ??= worker
      .stop()
      .then(() => nc.drain())
      .then(() => metricsServer?.close())
      .then(() => tracing.shutdown());
    return stopping;
  };
  if (handleSignals) {
    const onSignal = (): void => {
      shutdown().catch((err: unknown) => {
        options.logger?.error({ err }, "worker shutdown failed");
        process.exitCode = 1;
      });
    };
    process.once("SIGTERM", onSignal);
    process.once("SIGINT", onSignal);
  }
  return { worker, nc, metricsPort: metricsServer?.port, shutdown };
}

/** `JETFLOW_WORKER_METRICS_PORT` as a port number, undefined when unset. */
function metricsPortFrom(env: Readonly<Record<string, string | undefined>>): number | undefined {
  const text = nonEmpty(env["JETFLOW_WORKER_METRICS_PORT"]);
  if (text === undefined) return undefined;
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65_535) {
    throw new WorkerError(`JETFLOW_WORKER_METRICS_PORT must be a port number (0-65535), got "${text}"`);
  }
  return port;
}

function tlsFromEnv(env: Readonly<Record<string, string | undefined>>): TlsOptions | undefined {
  const tls: TlsOptions = {};
  const caFile = nonEmpty(env["NATS_TLS_CA"]);
  const certFile = nonEmpty(env["NATS_TLS_CERT"]);
  const keyFile = nonEmpty(env["NATS_TLS_KEY"]);
  if (caFile) tls.caFile = caFile;
  if (certFile) tls.certFile = certFile;
  if (keyFile) tls.keyFile = keyFile;
  return Object.keys(tls).length > 0 ? tls : undefined;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === "" ? undefined : value;
}
