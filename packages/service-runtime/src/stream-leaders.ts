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
 * info request, which only the stream's leader answers; a stream is leaderless after no
 * responders, or two probes in a row without an answer (one may be a busy server). Warns naming a
 * stream that stops answering and says when it answers again. A stream that does not exist yet counts as reachable:
 * its owner creates it.
 */
export function watchStreamLeaders(
  nc: NatsConnection,
  streams: readonly string[],
  log: Logger,
  intervalMs = STREAM_PROBE_INTERVAL_MS,
): StreamLeaderWatch {
  const failing = new Map<string, string>();
  const timeouts = new Map<string, number>();
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;

  const probe = async (stream: string): Promise<void> => {
    try {
      const jsm = await jetstreamManager(nc, { timeout: intervalMs });
      await jsm.streams.info(stream);
      timeouts.delete(stream);
      if (failing.delete(stream)) log.info({ stream }, "stream has a leader again");
    } catch (err) {
      const problem = describeJetStreamProblem(err, { stream });
      if (problem.kind === "stream-missing") {
        failing.delete(stream);
        return;
      }
      // A busy server may miss one probe's timeout; no responders is a definite "no leader".
      const misses = (timeouts.get(stream) ?? 0) + 1;
      timeouts.set(stream, misses);
      if (problem.kind !== "no-leader" && misses < 2) return;
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
