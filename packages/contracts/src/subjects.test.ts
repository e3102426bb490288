import { assertSubjectToken, InvalidSubjectTokenError, isSubjectToken, subjects } from "./subjects";
import { buckets, consumerConfigs, streamConfigs, streams } from "./resources";

describe("subjects", () => {
  it("builds per-activity and per-execution subjects under the jetflow root", () => {
    expect(subjects.task("send-email")).toBe("jetflow.tasks.send-email");
    expect(subjects.result("send-email")).toBe("jetflow.results.send-email");
    expect(subjects.events("e-1")).toBe("jetflow.events.e-1");
    expect(subjects.command("e-1")).toBe("jetflow.commands.e-1");
    expect(subjects.timer("e-1")).toBe("jetflow.timers.e-1");
  });

  it("accepts only single subject tokens", () => {
    expect(isSubjectToken("charge_card-2")).toBe(true);
    for (const bad of ["", "a.b", "a b", "*", ">", "x".repeat(129)]) expect(isSubjectToken(bad)).toBe(false);
    expect(() => assertSubjectToken("execution id", "a.b")).toThrow(
      new InvalidSubjectTokenError("execution id", "a.b"),
    );
    expect(() => assertSubjectToken("execution id", "a.b")).toThrow(
      'invalid execution id "a.b": use only letters, digits, "-" and "_"',
    );
  });
});

describe("resources", () => {
  it("names the streams and buckets of the design", () => {
    expect(streams).toMatchObject({
      events: "JETFLOW_EVENTS",
      tasks: "JETFLOW_TASKS",
      results: "JETFLOW_RESULTS",
    });
    expect(buckets).toMatchObject({ definitions: "jetflow_defs", instances: "jetflow_instances" });
  });

  it("makes replicas configuration, not code", () => {
    expect(streamConfigs.events({ replicas: 3 }).num_replicas).toBe(3);
    expect(streamConfigs.tasks().num_replicas).toBe(1);
    expect(streamConfigs.tasks().retention).toBe("workqueue");
  });

  it("never gives up redelivering a consumer's message", () => {
    expect(consumerConfigs.task("send-email")).toMatchObject({
      durable_name: "tasks-send-email",
      filter_subject: "jetflow.tasks.send-email",
      max_deliver: -1,
      ack_policy: "explicit",
    });
  });
});
