import type { NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import type { BaseConfig } from "./config";
import { startHealthServer } from "./health";
import type { HealthServer } from "./health";
import { createLogger } from "./logger";
import { createServiceMetrics, watchConnectionMetrics } from "./metrics";
import { connectNats } from "./nats";
import { watchStreamLeaders } from "./stream-leaders";
import { startTracing } from "./tracing";

/** A long-running part of a service: started once, stopped once on shutdown. */
export interface Component {
  /** True once streams and consumers are bound and work can flow. */
  ready(): boolean;
  /** Stop taking new work, finish or release in-flight work. Must not close the connection. */
  stop(): Promise<void>;
  /**
   * The JetStream streams the component cannot work without: the service is not ready while one
   * of them has no leader (see `watchStreamLeaders`). Default none.
   */
  readonly requiredStreams?: readonly string[];
}

/** What `runService` hands to the service's own start function. */
export interface ServiceContext<C extends BaseConfig> {
  config: C;
  log: Logger;
  nc: NatsConnection;
  /** The process's metrics registry, served at `/metrics` on the health port: register yours here. */
  metrics: Registry;
}

/** A started service, as returned to tests and to `main`. */
export interface RunningService {
  readonly healthPort: number | undefined;
  /** The process's metrics registry. */
  readonly metrics: Registry;
  /** Graceful stop: components, then health endpoint, then NATS drain. Idempotent. */
  shutdown(): Promise<void>;
}

/**
 * The composition root every service's `main` calls: logger, NATS connection, the service's
 * components, health endpoints and `/metrics`, and SIGTERM/SIGINT handling that stops everything in order and
 * exits 0 (or 1 when the stop took longer than `shutdownTimeoutMs`).
 */
export async function runService<C extends BaseConfig>(
  name: string,
  config: C,
  start: (ctx: ServiceContext<C>) => Promise<Component>,
): Promise<RunningService> {
  const log = createLogger(name, config.logLevel);
  // Before anything starts spans: off (nothing registered) unless OTEL_EXPORTER_OTLP_ENDPOINT is set.
  const tracing = await startTracing(name, process.env);
  const nc = await connectNats(config, name, log);
  const metrics = createServiceMetrics(name);
  watchConnectionMetrics(nc, metrics);
  // Not ready while NATS is unreachable: a probe then takes the pod out of rotation.
  let connected = true;
  void (async () => {
    for await (const status of nc.status()) {
      if (status.type === "disconnect") connected = false;
      else if (status.type === "reconnect") connected = true;
    }
  })();
  const component = await startWithRetries(
    () => startRegistering(metrics, () => start({ config, log, nc, metrics })),
    log,
  );
  const leaders = watchStreamLeaders(nc, component.requiredStreams ?? [], log);
  let health: HealthServer | undefined;
  if (config.healthPort > 0) {
    health = await startHealthServer(
      config.healthHost,
      config.healthPort,
      () => connected && !nc.isClosed() && leaders.ready() && component.ready(),
      metrics,
    );
  }
  log.info({ healthPort: health?.port, tracing: tracing.enabled }, "service started");

  let stopping: Promise<void> | undefined;
  const shutdown = (): Promise<void> => {
    stopping ??= (async () => {
      log.info("service stopping");
      leaders.stop();
      await component.stop();
      await health?.close();
      await nc.drain();
      await tracing.shutdown().catch((err: unknown) => log.warn({ err }, "cannot export the last spans"));
      log.info("service stopped");
    })();
    return stopping;
  };

  const onSignal = (signal: NodeJS.Signals): void => {
    log.info({ signal }, "signal received");
    const timer = setTimeout(() => {
      log.error({ timeoutMs: config.shutdownTimeoutMs }, "graceful stop timed out");
      process.exit(1);
    }, config.shutdownTimeoutMs);
    timer.unref();
    shutdown().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, "graceful stop failed");
        process.exit(1);
      },
    );
  };
  process.once("SIGTERM", onSignal);
  process.once("SIGINT", onSignal);
  return { healthPort: health?.port, metrics, shutdown };
}

/**
 * Runs one start attempt; when it fails, unregisters the metrics it registered, so that the next
 * attempt can register them again (prom-client refuses a name registered twice).
 */
async function startRegistering(metrics: Registry, start: () => Promise<Component>): Promise<Component> {
  const before = new Set(metrics.getMetricsAsArray().map((metric) => metric.name));
  try {
    return await start();
  } catch (err) {
    for (const metric of metrics.getMetricsAsArray()) {
      if (!before.has(metric.name)) metrics.removeSingleMetric(metric.name);
    }
    throw err;
  }
}

/** Start-up attempts before giving up; the delays between them grow from 0.5 s to 5 s (~35 s). */
const START_ATTEMPTS = 10;

/**
 * Runs a component's start, retrying with back-off: on a fresh cluster JetStream may still be
 * electing leaders, and replicas starting together race to create the same resources.
 */
async function startWithRetries(start: () => Promise<Component>, log: Logger): Promise<Component> {
  let delayMs = 500;
  for (let attempt = 1; ; attempt++) {
    try {
      return await start();
    } catch (err) {
      if (attempt >= START_ATTEMPTS) throw err;
      log.warn({ err, attempt, retryInMs: delayMs }, "start failed; retrying");
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      delayMs = Math.min(delayMs * 2, 5000);
    }
  }
}
