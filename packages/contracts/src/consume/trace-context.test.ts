import { trace } from "@opentelemetry/api";
import {
  contextFromTraceParent,
  parseTraceParent,
  startTraceSpan,
  traceHeaders,
  traceParentHeader,
} from "./trace-context";

const PARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

describe("trace context", () => {
  it("parses a W3C traceparent into a remote span context and refuses malformed ones", () => {
    expect(parseTraceParent(PARENT)).toEqual({
      traceId: "0af7651916cd43dd8448eb211c80319c",
      spanId: "b7ad6b7169203331",
      traceFlags: 1,
      isRemote: true,
    });
    expect(parseTraceParent(undefined)).toBeUndefined();
    expect(parseTraceParent("01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")).toBeUndefined();
    // All-zero ids are invalid by the W3C rules.
    expect(parseTraceParent("00-00000000000000000000000000000000-b7ad6b7169203331-01")).toBeUndefined();
    expect(trace.getSpanContext(contextFromTraceParent(PARENT))?.spanId).toBe("b7ad6b7169203331");
  });

  it("carries a traceparent in NATS headers, and nothing when there is none", () => {
    expect(traceHeaders(undefined)).toBeUndefined();
    expect(traceParentHeader(traceHeaders(PARENT))).toBe(PARENT);
    expect(traceParentHeader(undefined)).toBeUndefined();
  });

  it("records nothing without an SDK: the span is the API's no-op and has no traceparent", () => {
    const span = startTraceSpan("task x", { parent: PARENT, kind: "consumer" });
    expect(span.traceParent).toBeUndefined();
    // The no-op span still carries the parent, so code run in its context stays in the trace.
    expect(trace.getSpanContext(span.context)?.traceId).toBe("0af7651916cd43dd8448eb211c80319c");
    span.end("Failed");
  });
});
