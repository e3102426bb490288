import { JetStreamApiError, JetStreamError } from "@nats-io/jetstream";
import { decideOnFailure, decideOnNotification, reopenDelayMs } from "./consume-decisions";

const target = { stream: "JETFLOW_COMMANDS", consumer: "orchestrator" };
const named = (name: string, message: string, cause?: unknown): Error => {
  const err = new Error(message, { cause });
  err.name = name;
  return err;
};

describe("decideOnNotification", () => {
  it("takes a server heartbeat as proof that messages can flow", () => {
    expect(
      decideOnNotification(
        { type: "heartbeat", lastConsumerSequence: 1, lastStreamSequence: 2 },
        target,
        false,
      ),
    ).toEqual({ kind: "healthy" });
  });

  it("calls missed heartbeats a stall, naming the consumer and stream", () => {
    expect(decideOnNotification({ type: "heartbeats_missed", count: 2 }, target, false)).toEqual({
      kind: "stalled",
      reason:
        'consumer "orchestrator" on stream "JETFLOW_COMMANDS": 2 heartbeats missed (no leader, a lost pull or a dead connection); pulling again',
    });
  });

  it("ignores missed heartbeats while the loop holds all it may: it stopped asking on purpose", () => {
    expect(decideOnNotification({ type: "heartbeats_missed", count: 2 }, target, true)).toEqual({
      kind: "ignore",
    });
  });

  it("recreates a deleted or missing consumer", () => {
    expect(
      decideOnNotification(
        { type: "consumer_deleted", code: 409, description: "consumer deleted" },
        target,
        false,
      ),
    ).toEqual({
      kind: "recreate",
      reason: 'consumer "orchestrator" on stream "JETFLOW_COMMANDS" was deleted (consumer deleted)',
    });
    expect(
      decideOnNotification(
        { type: "consumer_not_found", name: "orchestrator", stream: "JETFLOW_COMMANDS", count: 1 },
        target,
        false,
      ).kind,
    ).toBe("recreate");
    expect(
      decideOnNotification({ type: "stream_not_found", name: "JETFLOW_COMMANDS" }, target, false).kind,
    ).toBe("recreate");
  });

  it("says a pull without responders means no leader", () => {
    expect(decideOnNotification({ type: "no_responders", code: 503 }, target, false)).toEqual({
      kind: "stalled",
      reason:
        'consumer "orchestrator" on stream "JETFLOW_COMMANDS" has no leader: the pull got no responders (503)',
    });
  });

  it("ignores informational notifications", () => {
    expect(decideOnNotification({ type: "discard", messagesLeft: 3, bytesLeft: 0 }, target, false)).toEqual({
      kind: "ignore",
    });
    expect(
      decideOnNotification({ type: "debug", code: 408, description: "Request Timeout" }, target, false),
    ).toEqual({ kind: "ignore" });
  });
});

describe("decideOnFailure", () => {
  it("recreates when the consumer or the stream is missing", () => {
    const notFound = new JetStreamApiError({ code: 404, err_code: 10014, description: "consumer not found" });
    expect(decideOnFailure(notFound, target)).toEqual({
      kind: "recreate",
      reason: 'consumer "orchestrator" on stream "JETFLOW_COMMANDS" does not exist',
    });
    const noStream = new JetStreamApiError({ code: 404, err_code: 10059, description: "stream not found" });
    expect(decideOnFailure(noStream, target)).toEqual({
      kind: "recreate",
      reason: 'stream "JETFLOW_COMMANDS" does not exist',
    });
    expect(decideOnFailure(new JetStreamError("consumer deleted"), target).kind).toBe("recreate");
  });

  it("reopens after a pull nobody answered, calling it no leader rather than 'jetstream is not enabled'", () => {
    const err = named(
      "JetStreamNotEnabled",
      "jetstream is not enabled",
      named("NoResponders", "no responders"),
    );
    expect(decideOnFailure(err, target)).toEqual({
      kind: "reopen",
      reason:
        'consumer "orchestrator" on stream "JETFLOW_COMMANDS" has no leader: no JetStream server answered (leader election or partition under way)',
    });
  });

  it("reopens after missed heartbeats and timeouts", () => {
    expect(decideOnFailure(new JetStreamError("heartbeats missed"), target)).toEqual({
      kind: "reopen",
      reason:
        'consumer "orchestrator" on stream "JETFLOW_COMMANDS" sent no heartbeat: no leader, a lost pull or a dead connection',
    });
    expect(decideOnFailure(named("TimeoutError", "timeout"), target)).toEqual({
      kind: "reopen",
      reason:
        'consumer "orchestrator" on stream "JETFLOW_COMMANDS" did not answer in time: no leader or an overloaded server',
    });
  });
});

describe("reopenDelayMs", () => {
  it("reopens at once after a clean end, then backs off from 250 ms to 2 s", () => {
    expect([0, 1, 2, 3, 4, 5, 9].map((n) => reopenDelayMs(n))).toEqual([0, 250, 500, 1000, 2000, 2000, 2000]);
  });
});
