import { JetStreamApiError } from "@nats-io/jetstream";
import { StreamLeaderError, describeJetStreamProblem, explainJetStreamError } from "./jetstream-problems";
import { explainPublishError, streamForSubject } from "./publish-errors";

const noResponders = (): Error => {
  // What nats.js throws for a JetStream request nobody answered.
  const err = new Error("jetstream is not enabled");
  err.name = "JetStreamNotEnabled";
  return err;
};

describe("explainJetStreamError", () => {
  it("turns 'jetstream is not enabled' into a no-leader error naming the stream", () => {
    const cause = noResponders();
    const err = explainJetStreamError(cause, "JETFLOW_EVENTS");
    expect(err).toBeInstanceOf(StreamLeaderError);
    expect((err as StreamLeaderError).message).toBe(
      'stream "JETFLOW_EVENTS" has no leader: no JetStream server answered (leader election or partition under way)',
    );
    expect((err as StreamLeaderError).stream).toBe("JETFLOW_EVENTS");
    expect((err as StreamLeaderError).cause).toBe(cause);
  });

  it("also recognises a 503 API error and leaves other errors alone", () => {
    const unavailable = new JetStreamApiError({ code: 503, err_code: 10008, description: "unavailable" });
    expect(explainJetStreamError(unavailable, "JETFLOW_TASKS")).toBeInstanceOf(StreamLeaderError);
    const other = new Error("wrong last sequence");
    expect(explainJetStreamError(other, "JETFLOW_EVENTS")).toBe(other);
  });
});

describe("describeJetStreamProblem", () => {
  it("names the stream alone when no consumer is involved", () => {
    expect(describeJetStreamProblem(noResponders(), { stream: "JETFLOW_RESULTS" })).toEqual({
      kind: "no-leader",
      description:
        'stream "JETFLOW_RESULTS" has no leader: no JetStream server answered (leader election or partition under way)',
    });
    expect(describeJetStreamProblem(new Error("boom"), { stream: "JETFLOW_RESULTS" })).toEqual({
      kind: "other",
      description: 'stream "JETFLOW_RESULTS": boom',
    });
  });
});

describe("explainPublishError", () => {
  it("names the stream a subject belongs to", () => {
    expect(streamForSubject("jetflow.tasks.send-email")).toBe("JETFLOW_TASKS");
    expect(streamForSubject("jetflow.events.exec-1")).toBe("JETFLOW_EVENTS");
    expect(streamForSubject("elsewhere.x")).toBeUndefined();
    const err = explainPublishError(noResponders(), "jetflow.commands.exec-1");
    expect((err as Error).message).toBe(
      'stream "JETFLOW_COMMANDS" has no leader: no JetStream server answered (leader election or partition under way)',
    );
  });
});
