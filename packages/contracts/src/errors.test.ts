import { fromTaskFailure, TaskError, toTaskFailure, TASK_FAILED } from "./errors";
import { decode, DecodeError, encode } from "./codec";
import { TaskResult } from "./gen/jetflow/v1/task";

describe("toTaskFailure", () => {
  it("uses a named error's name as the ASL error", () => {
    class PaymentDeclined extends Error {
      override name = "PaymentDeclined";
    }
    expect(toTaskFailure(new PaymentDeclined("card expired"))).toEqual({
      error: "PaymentDeclined",
      cause: "card expired",
    });
  });

  it("classifies generic JavaScript errors and non-errors as States.TaskFailed", () => {
    expect(toTaskFailure(new TypeError("x is undefined"))).toEqual({
      error: TASK_FAILED,
      cause: "x is undefined",
    });
    expect(toTaskFailure("boom")).toEqual({ error: TASK_FAILED, cause: "boom" });
    expect(toTaskFailure({ code: 7 })).toEqual({ error: TASK_FAILED, cause: '{"code":7}' });
  });

  it("round-trips through the wire form", () => {
    const err = fromTaskFailure({ error: "Quota", cause: "too many" });
    expect(err).toBeInstanceOf(TaskError);
    expect(err.name).toBe("Quota");
    expect(err.message).toBe("too many");
  });
});

describe("codec", () => {
  it("encodes and decodes a message", () => {
    const result: TaskResult = {
      taskToken: "t-1",
      outcome: { $case: "outputJson", value: '{"n":1}' },
      workerId: "w",
      completedTime: new Date(1_700_000_000_000),
    };
    expect(decode(TaskResult, "TaskResult", encode(TaskResult, result), "jetflow.results.a")).toEqual(result);
  });

  it("reports garbage bytes as a DecodeError naming the subject", () => {
    const garbage = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff]);
    expect(() => decode(TaskResult, "TaskResult", garbage, "jetflow.results.a")).toThrow(DecodeError);
    expect(() => decode(TaskResult, "TaskResult", garbage, "jetflow.results.a")).toThrow(
      /^cannot decode TaskResult received on "jetflow.results.a": /,
    );
  });
});
