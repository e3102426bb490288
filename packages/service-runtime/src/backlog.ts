import { jetstreamManager } from "@nats-io/jetstream";
import type { ConsumerInfo } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "pino";
import { Counter, Gauge } from "prom-client";
import type { Registry } from "prom-client";
import { activityFromSubject, streams, subjects } from "@jetflow/contracts";

/** Options of {@link startBacklogSampler}. */
export interface BacklogSamplerOptions {
  nc: NatsConnection;
  registry: Registry;
  log: Logger;
  /** Time between two readings of the consumers, in milliseconds. Default 5_000. */
  intervalMs?: number;
}

/** A running sampler. */
export interface BacklogSampler {
  /** Resolves after the next complete reading (for tests and for a first scrape). */
  sampled(): Promise<void>;
  stop(): void;
}

/** One consumer's reading, with the labels it is reported under. */
interface ConsumerReading {
  labels: { stream: string; consumer: string; activity: string };
  info: ConsumerInfo;
}

const DEAD_LETTER_PREFIX = subjects.deadLetter("");

/**
 * Reads every jetflow consumer's info and the dead-letter stream's per-subject counts from
 * JetStream at an interval and exposes them as gauges: backlog (pending), unacknowledged
 * messages, waiting pulls (connected workers) and stored dead letters per service. One service
 * runs it (the dispatcher): the numbers are the server's, the same whoever reads them, so a
 * dashboard takes `max by (stream, consumer)` over replicas. Labels are bounded by the number of
 * consumers (one per activity plus the engine's own).
 */
export function startBacklogSampler(options: BacklogSamplerOptions): BacklogSampler {
  const { nc, registry, log } = options;
  const intervalMs = options.intervalMs ?? 5_000;
  let consumers: ConsumerReading[] = [];
  let deadLetters = new Map<string, number>();
  const labelNames = ["stream", "consumer", "activity"] as const;
  const consumerGauge = (name: string, help: string, read: (info: ConsumerInfo) => number): void => {
    new Gauge({
      name,
      help,
      labelNames,
      registers: [registry],
      collect() {
        // Reset so that a deleted consumer disappears instead of keeping its last value.
        this.reset();
        for (const { labels, info } of consumers) this.set(labels, read(info));
      },
    });
  };
  consumerGauge(
    "jetflow_consumer_pending_messages",
    "Messages in the stream the consumer has not delivered yet (its backlog)",
    (info) => info.num_pending,
  );
  consumerGauge(
    "jetflow_consumer_ack_pending_messages",
    "Messages delivered by the consumer and not acknowledged yet (being worked on, or lost holders)",
    (info) => info.num_ack_pending,
  );
  consumerGauge(
    "jetflow_consumer_waiting_pulls",
    "Pull requests waiting on the consumer: for a task consumer, roughly the idle workers",
    (info) => info.num_waiting,
  );
  consumerGauge(
    "jetflow_consumer_redelivered_messages",
    "Messages delivered more than once and not acknowledged yet",
    (info) => info.num_redelivered,
  );
  consumerGauge(
    "jetflow_consumer_ack_floor_sequence",
    "Stream sequence up to which the consumer has every message acknowledged (grows while it consumes)",
    (info) => info.ack_floor.stream_seq,
  );
  new Gauge({
    name: "jetflow_dead_letters_stored_messages",
    help: "Dead letters kept on jetflow.dlq.<service> (14 days), by the service that parked them",
    labelNames: ["parked_by"],
    registers: [registry],
    collect() {
      this.reset();
      for (const [service, count] of deadLetters) this.set({ parked_by: service }, count);
    },
  });
  const failures = new Counter({
    name: "jetflow_backlog_sample_failures_total",
    help: "Readings of the consumers' info that failed (the gauges keep their last values)",
    registers: [registry],
  });

  const readOnce = async (): Promise<void> => {
    const jsm = await jetstreamManager(nc, { checkAPI: false });
    const next: ConsumerReading[] = [];
    for (const stream of Object.values(streams)) {
      if (stream === streams.deadLetters) continue;
      try {
        for await (const info of jsm.consumers.list(stream)) {
          const filter = info.config.filter_subject ?? "";
          const activity = stream === streams.tasks ? (activityFromSubject(filter) ?? "") : "";
          next.push({ labels: { stream, consumer: info.name, activity }, info });
        }
      } catch (err) {
        // A stream not created yet (its owner has not started) has no consumers to report.
        if (!isNotFound(err)) throw err;
      }
    }
    const letters = new Map<string, number>();
    try {
      const info = await jsm.streams.info(streams.deadLetters, { subjects_filter: subjects.allDeadLetters });
      for (const [subject, count] of Object.entries(info.state.subjects ?? {})) {
        letters.set(subject.slice(DEAD_LETTER_PREFIX.length), count);
      }
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    consumers = next;
    deadLetters = letters;
  };

  let stopped = false;
  let waiters: (() => void)[] = [];
  let timer: NodeJS.Timeout | undefined;
  const loop = async (): Promise<void> => {
    try {
      await readOnce();
    } catch (err) {
      failures.inc();
      log.warn({ err }, "cannot read the consumers' backlog");
    }
    for (const wake of waiters.splice(0)) wake();
    if (!stopped) timer = setTimeout(() => void loop(), intervalMs);
  };
  void loop();
  return {
    sampled: () => new Promise<void>((resolve) => waiters.push(resolve)),
    stop() {
      stopped = true;
      clearTimeout(timer);
      const pending = waiters;
      waiters = [];
      for (const wake of pending) wake();
    },
  };
}

function isNotFound(err: unknown): boolean {
  return err instanceof Error && /not found/i.test(err.message);
}
