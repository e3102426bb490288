/**
 * W3C trace context (`traceparent`) for jetflow's messages, on the OpenTelemetry API only: with no
 * SDK registered every tracer is a no-op, spans are never recording and these helpers return
 * undefined, so tracing off costs a few property reads per message.
 *
 * An execution's trace parent is kept durably (`ExecutionStarted.trace_parent`, copied into the
 * snapshot and each EventBatch), so every hop of the execution finds it without a lookup; NATS
 * messages between a task's hops carry it in the `traceparent` header.
 */
import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  TraceFlags,
  context,
  isSpanContextValid,
  trace,
} from "@opentelemetry/api";
import type { Attributes, Context, Span, SpanContext } from "@opentelemetry/api";
import { headers as natsHeaders } from "@nats-io/transport-node";
import type { MsgHdrs } from "@nats-io/transport-node";

/** The header (and gRPC metadata key) carrying the W3C trace parent. */
export const TRACEPARENT = "traceparent";

const TRACEPARENT_SHAPE = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** The `traceparent` text of a span, or undefined when the span is not recorded (tracing off). */
export function formatTraceParent(span: Span | undefined): string | undefined {
  if (!span || !span.isRecording()) return undefined;
  const { traceId, spanId, traceFlags } = span.spanContext();
  return `00-${traceId}-${spanId}-${(traceFlags & 0xff).toString(16).padStart(2, "0")}`;
}

/** The remote span context a `traceparent` names, or undefined when absent or malformed. */
export function parseTraceParent(text: string | undefined): SpanContext | undefined {
  const match = text ? TRACEPARENT_SHAPE.exec(text.trim()) : null;
  if (!match) return undefined;
  const spanContext: SpanContext = {
    traceId: match[1] ?? "",
    spanId: match[2] ?? "",
    traceFlags: Number.parseInt(match[3] ?? "0", 16) & TraceFlags.SAMPLED,
    isRemote: true,
  };
  return isSpanContextValid(spanContext) ? spanContext : undefined;
}

/** A context whose parent span is the one `traceparent` names (the root context when none). */
export function contextFromTraceParent(text: string | undefined): Context {
  const parent = parseTraceParent(text);
  return parent ? trace.setSpanContext(ROOT_CONTEXT, parent) : ROOT_CONTEXT;
}

/** The `traceparent` header of a message, if any. */
export function traceParentHeader(headers: MsgHdrs | undefined): string | undefined {
  const value = headers?.get(TRACEPARENT);
  return value === undefined || value === "" ? undefined : value;
}

/** Headers carrying `traceparent`, or undefined when there is none to carry (tracing off). */
export function traceHeaders(traceParent: string | undefined): MsgHdrs | undefined {
  if (traceParent === undefined) return undefined;
  const h = natsHeaders();
  h.set(TRACEPARENT, traceParent);
  return h;
}

/** A span of jetflow's, with what the next hop needs. */
export interface TraceSpan {
  /** The span's `traceparent`, undefined when tracing is off. */
  readonly traceParent: string | undefined;
  /** A context with this span active: code run in it (`context.with`) makes its spans children. */
  readonly context: Context;
  /** Ends the span; an error name marks it failed. */
  end(error?: string, endTime?: Date): void;
}

const KINDS = {
  server: SpanKind.SERVER,
  consumer: SpanKind.CONSUMER,
  producer: SpanKind.PRODUCER,
  internal: SpanKind.INTERNAL,
} as const;

/**
 * Starts a span whose parent is the span `parent` names (a `traceparent`), or a new trace when
 * there is none. With no SDK registered this is the API's no-op span: nothing is recorded.
 */
export function startTraceSpan(
  name: string,
  options: { parent?: string; kind?: keyof typeof KINDS; attributes?: Attributes; startTime?: Date } = {},
): TraceSpan {
  const parent = contextFromTraceParent(options.parent);
  const span = trace.getTracer("jetflow").startSpan(
    name,
    {
      kind: KINDS[options.kind ?? "internal"],
      attributes: options.attributes,
      startTime: options.startTime,
    },
    parent,
  );
  return {
    traceParent: formatTraceParent(span),
    context: trace.setSpan(parent, span),
    end(error, endTime) {
      if (error !== undefined) span.setStatus({ code: SpanStatusCode.ERROR, message: error });
      span.end(endTime);
    },
  };
}

/** Runs `fn` with `span` as the active span (so spans the code starts become its children). */
export function withTraceSpan<T>(span: TraceSpan, fn: () => T): T {
  return context.with(span.context, fn);
}
