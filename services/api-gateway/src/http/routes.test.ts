import { httpRoutes } from "@jetflow/contracts";
import { status } from "@grpc/grpc-js";
import { ApiError } from "../errors";
import { compiledRoutes, matchRoute, requestObject } from "./routes";
import { httpStatusOf } from "./status";

function route(verb: string, path: string) {
  const match = matchRoute(verb, path);
  if (match.kind !== "route") throw new Error(`no route for ${verb} ${path}: ${match.kind}`);
  return match;
}

function problemOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof ApiError && err.code === status.INVALID_ARGUMENT) return err.message;
    throw err;
  }
  throw new Error("expected INVALID_ARGUMENT");
}

describe("HTTP routes from the .proto annotations", () => {
  it("has one route per WorkflowService method, each with a handler name", () => {
    expect(compiledRoutes.map((r) => r.handler)).toEqual(
      httpRoutes.map((r) => r.method.charAt(0).toLowerCase() + r.method.slice(1)),
    );
    expect(compiledRoutes.map((r) => r.handler)).toContain("watchExecution");
  });

  it("matches path variables, custom verbs after a colon, and tells a wrong verb from no route", () => {
    const stop = route("POST", "/v1/executions/ex-1:stop");
    expect(stop.compiled.route.method).toBe("StopExecution");
    expect(stop.pathValues).toEqual(["ex-1"]);
    expect(route("GET", "/v1/executions/ex-1").compiled.route.method).toBe("DescribeExecution");
    expect(route("GET", "/v1/executions/ex-1/watch").compiled.route.method).toBe("WatchExecution");
    expect(route("POST", "/v1/workflows:validate").compiled.route.method).toBe("ValidateWorkflow");
    expect(matchRoute("DELETE", "/v1/workflows")).toEqual({ kind: "wrong-verb", allowed: ["POST", "GET"] });
    expect(matchRoute("GET", "/v1/executions/a/b/c")).toEqual({ kind: "none" });
  });

  it("reads the query by JSON or proto name, typed by field, and percent-decodes the path", () => {
    const list = route("GET", "/v1/executions");
    expect(
      requestObject(
        list.compiled,
        list.pathValues,
        new URLSearchParams("page_size=5&namePrefix=a&startedAfter=2026-01-01T00:00:00Z"),
        undefined,
      ),
    ).toEqual({ pageSize: 5, namePrefix: "a", startedAfter: "2026-01-01T00:00:00Z" });
    const history = route("GET", "/v1/executions/a%20b/history");
    expect(
      requestObject(
        history.compiled,
        history.pathValues,
        new URLSearchParams("reverseOrder=true"),
        undefined,
      ),
    ).toEqual({ executionId: "a b", reverseOrder: true });
  });

  it("names every unknown, repeated or mistyped field at once", () => {
    const list = route("GET", "/v1/executions");
    expect(
      problemOf(() =>
        requestObject(
          list.compiled,
          [],
          new URLSearchParams("pageSize=x&pageSize=2&colour=red&startedBefore=yesterday"),
          undefined,
        ),
      ),
    ).toBe(
      [
        "invalid request:",
        "page_size: is given more than once",
        'page_size: must be an integer, got "x"',
        "colour: unknown query parameter",
        'started_before: must be an RFC 3339 time, got "yesterday"',
      ].join("\n"),
    );
    const stop = route("POST", "/v1/executions/e:stop");
    expect(
      problemOf(() =>
        requestObject(stop.compiled, stop.pathValues, new URLSearchParams(), { executionId: "x", cause: 3 }),
      ),
    ).toBe("invalid request:\nexecutionId: is set by the path, not the body\ncause: must be a string, got 3");
    expect(problemOf(() => requestObject(stop.compiled, stop.pathValues, new URLSearchParams(), [1]))).toBe(
      "invalid request:\nbody: must be a JSON object",
    );
  });
});

describe("gRPC status codes as HTTP statuses", () => {
  it("follows Google's HTTP mapping", () => {
    expect(
      [
        status.INVALID_ARGUMENT,
        status.FAILED_PRECONDITION,
        status.NOT_FOUND,
        status.ALREADY_EXISTS,
        status.RESOURCE_EXHAUSTED,
        status.UNAVAILABLE,
        status.INTERNAL,
        status.UNIMPLEMENTED,
        status.DEADLINE_EXCEEDED,
        status.UNAUTHENTICATED,
        status.PERMISSION_DENIED,
      ].map(httpStatusOf),
    ).toEqual([400, 400, 404, 409, 429, 503, 500, 501, 504, 401, 403]);
  });
});
