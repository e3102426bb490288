/**
 * Watches that the streams a service needs have a leader, for its readiness: a stream without a
 * leader (an election, a partition that left this service with a minority) takes every write
 * through it down, and a Kubernetes probe should then route elsewhere.
 */
import { describeJetStreamProblem } from "@jetflow/contracts/internal";
import { jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "pino";

/** How often each stream is asked for its info (answered by its leader). */
export const STREAM_PROBE_INTERVAL_MS = 2_000;

/** A running watch of stream leaders. */
export interface StreamLeaderWatch {
  /** True while every stream answered its latest probe. */
  ready(): boolean;
  /** The streams that did not answer their latest probe. */
  leaderless(): string[];
  stop(): void;
}

/**
 * Probes `streams` every `intervalMs` (default {@link STREAM_PROBE_INTERVAL_MS}) with a stream
 * info request, which only the stream's leader answers; warns naming a stream that stops
 * answering and says when it answers again. A stream that does not exist yet counts as reachable:
 * its owner creates it.
 */
export function watchStreamLeaders(
  nc: NatsConnection,
  streams: readonly string[],
  log: Logger,
  intervalMs = STREAM_PROBE_INTERVAL_MS,
): StreamLeaderWatch {
  const failing = new Map<string, string>();
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;

  const probe = async (stream: string): Promise<void> => {
    try {
      const jsm = await jetstreamManager(nc, { timeout: intervalMs });
      await jsm.streams.info(stream);
      if (failing.delete(stream)) log.info({ stream }, "stream has a leader again");
    } catch (err) {
      const problem = describeJetStreamProblem(err, { stream });
      if (problem.kind === "stream-missing") {
        failing.delete(stream);
        return;
      }
      if (!failing.has(stream)) log.warn({ stream, err }, problem.description);
      failing.set(stream, problem.description);
    }
  };

  const round = async (): Promise<void> => {
    if (stopped) return;
    // While disconnected the connection state already says not ready; probes would only time out.
    if (!nc.isClosed() && !nc.isDraining()) await Promise.all(streams.map(probe));
    if (!stopped) timer = setTimeout(() => void round(), intervalMs);
  };
  timer = setTimeout(() => void round(), 0);

  return {
    ready: () => failing.size === 0,
    leaderless: () => [...failing.keys()],
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
