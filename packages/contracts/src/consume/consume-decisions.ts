/**
 * The pure decisions of the durable consume loop: what a consume status notification, a failed
 * pull or a connection event means for the loop. No I/O, no clock: the loop applies them.
 */
import type { ConsumerNotification } from "@nats-io/jetstream";
import { describeJetStreamProblem } from "./jetstream-problems";
import type { JetStreamTarget } from "./jetstream-problems";

/** What the loop does about one status notification or failure. */
export type LoopAction =
  /** Nothing changes. */
  | { kind: "ignore" }
  /** Proof that messages can flow: a heartbeat from the server or a delivered message. */
  | { kind: "healthy" }
  /** Not consuming right now; nats.js pulls again by itself. Warn once, report not ready. */
  | { kind: "stalled"; reason: string }
  /** The consumer is gone: create it again from its configuration, then pull again at once. */
  | { kind: "recreate"; reason: string }
  /** Close this pull and open a new one after a short pause. */
  | { kind: "reopen"; reason: string };

/**
 * Decides what a consume/fetch status notification means. `saturated` is true while the loop
 * holds as many messages as it may: it then stops asking for more on purpose, so silence from
 * the server is expected and not a stall.
 */
export function decideOnNotification(
  status: ConsumerNotification,
  target: JetStreamTarget,
  saturated: boolean,
): LoopAction {
  const what = `consumer "${target.consumer ?? "?"}" on stream "${target.stream}"`;
  switch (status.type) {
    case "heartbeat":
      return { kind: "healthy" };
    case "heartbeats_missed":
      if (saturated) return { kind: "ignore" };
      return {
        kind: "stalled",
        reason: `${what}: ${status.count} heartbeats missed (no leader, a lost pull or a dead connection); pulling again`,
      };
    case "no_responders":
      return {
        kind: "stalled",
        reason: `${what} has no leader: the pull got no responders (${status.code})`,
      };
    case "consumer_deleted":
      return { kind: "recreate", reason: `${what} was deleted (${status.description})` };
    case "consumer_not_found":
      return { kind: "recreate", reason: `${what} was not found` };
    case "stream_not_found":
      return { kind: "recreate", reason: `stream "${target.stream}" was not found` };
    default:
      return { kind: "ignore" };
  }
}

/** Decides what a consume or fetch that failed (threw) means: recreate when the consumer is gone. */
export function decideOnFailure(err: unknown, target: JetStreamTarget): LoopAction {
  const problem = describeJetStreamProblem(err, target);
  if (problem.kind === "consumer-missing" || problem.kind === "stream-missing") {
    return { kind: "recreate", reason: problem.description };
  }
  return { kind: "reopen", reason: problem.description };
}

/**
 * The pause before the `failures`-th consecutive reopen, in milliseconds: 250 ms doubling to at
 * most `maxMs` (default 2000), so a loop whose consumer has no leader asks again every 2 s.
 */
export function reopenDelayMs(failures: number, maxMs = 2_000): number {
  if (failures <= 0) return 0;
  return Math.min(maxMs, 250 * 2 ** (failures - 1));
}
