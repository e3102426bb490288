import type { NatsConnection } from "@nats-io/transport-node";
import { Counter, Gauge, Registry, collectDefaultMetrics } from "prom-client";
import { deliveryCounts } from "@jetflow/contracts/internal";

/**
 * The metrics registry of one service process: prom-client's default process metrics (CPU,
 * memory, event loop lag, GC, handles), every metric labelled `service`, and the metrics every
 * service shares (consume-loop deliveries and redeliveries, NATS connection events). One
 * registry per process, served at `/metrics` on the health port. docs/metrics.md lists them all.
 */
export function createServiceMetrics(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  registerDeliveryMetrics(registry);
  return registry;
}

/** Exposes the durable consume loop's per-consumer delivery counts (see `deliveryCounts`). */
function registerDeliveryMetrics(registry: Registry): void {
  const labelNames = ["stream", "consumer"] as const;
  new Counter({
    name: "jetflow_consumer_deliveries_total",
    help: "Messages a durable consumer delivered to this process's handler, redeliveries included",
    labelNames,
    registers: [registry],
    collect() {
      this.reset();
      for (const c of deliveryCounts()) this.inc({ stream: c.stream, consumer: c.consumer }, c.delivered);
    },
  });
  new Counter({
    name: "jetflow_consumer_redeliveries_total",
    help: "Messages a durable consumer delivered to this process again (lost ack, NAK, dead holder)",
    labelNames,
    registers: [registry],
    collect() {
      this.reset();
      for (const c of deliveryCounts()) this.inc({ stream: c.stream, consumer: c.consumer }, c.redelivered);
    },
  });
}

/**
 * Counts the connection's disconnects and reconnects and reports whether it is connected now,
 * until the connection closes. Works for any connection (the worker SDK uses its own copy).
 */
export function watchConnectionMetrics(nc: NatsConnection, registry: Registry): void {
  const disconnects = new Counter({
    name: "jetflow_nats_disconnects_total",
    help: "Times this process lost its NATS connection",
    registers: [registry],
  });
  const reconnects = new Counter({
    name: "jetflow_nats_reconnects_total",
    help: "Times this process reconnected to NATS after losing the connection",
    registers: [registry],
  });
  let connected = true;
  new Gauge({
    name: "jetflow_nats_connected",
    help: "1 while this process is connected to NATS, else 0",
    registers: [registry],
    collect() {
      this.set(connected && !nc.isClosed() ? 1 : 0);
    },
  });
  void (async () => {
    for await (const status of nc.status()) {
      if (status.type === "disconnect") {
        connected = false;
        disconnects.inc();
      } else if (status.type === "reconnect") {
        connected = true;
        reconnects.inc();
      }
    }
  })();
}

/** How one counter of a service's stats object is exposed. */
export interface StatCounter<S> {
  /** Full metric name, ending in `_total`. */
  readonly name: string;
  readonly help: string;
  /** Reads the counter's current value from the stats. */
  readonly read: (stats: S) => number;
}

/**
 * Exposes counters a service already keeps (its `stats()` or `counters`) as Prometheus counters,
 * read at each scrape: the service's own code needs no change to be measured.
 */
export function exposeStats<S>(
  registry: Registry,
  stats: () => S,
  counters: readonly StatCounter<S>[],
): void {
  for (const counter of counters) {
    new Counter({
      name: counter.name,
      help: counter.help,
      registers: [registry],
      collect() {
        this.reset();
        this.inc(counter.read(stats()));
      },
    });
  }
}
