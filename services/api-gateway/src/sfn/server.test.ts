import { status } from "@grpc/grpc-js";
import { ApiError } from "../errors";
import { SfnError, toSfnError } from "./errors";
import { operationOf } from "./server";

describe("operationOf", () => {
  it("finds every supported operation by its X-Amz-Target", () => {
    expect(operationOf("AWSStepFunctions.StartExecution").name).toBe("StartExecution");
  });

  it("answers UnknownOperationException for anything else", () => {
    for (const target of [
      undefined,
      "StartExecution",
      "AWSStepFunctions.ListMapRuns",
      "AWSStepFunctions.toString",
    ]) {
      expect(() => operationOf(target)).toThrow(SfnError);
    }
  });
});

describe("toSfnError", () => {
  it("maps the gateway's codes by what they mean in the operation", () => {
    const notFound = new ApiError(status.NOT_FOUND, 'workflow "w" does not exist');
    expect(toSfnError(notFound, { [status.NOT_FOUND]: "StateMachineDoesNotExist" })).toMatchObject({
      type: "StateMachineDoesNotExist",
      message: 'workflow "w" does not exist',
      httpStatus: 400,
    });
    expect(toSfnError(notFound).type).toBe("ValidationException");
    expect(toSfnError(new ApiError(status.UNAVAILABLE, "x")).httpStatus).toBe(503);
  });

  it("hides unknown failures behind InternalFailure", () => {
    expect(toSfnError(new Error("secret detail"))).toMatchObject({
      type: "InternalFailure",
      message: "internal error",
    });
    expect(toSfnError(new Error("x")).httpStatus).toBe(500);
  });
});
