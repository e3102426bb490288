/**
 * An OTLP/HTTP trace receiver for tests: accepts `POST /v1/traces` (protobuf, as the OTLP proto
 * exporter sends it), decodes each ExportTraceServiceRequest with the OTLP schema below (the
 * subset of opentelemetry-proto's trace and common messages the tests read) and keeps the spans.
 */
import { createServer } from "node:http";
import type { Server } from "node:http";
import protobuf from "protobufjs";

const OTLP_TRACE_PROTO = `
syntax = "proto3";
package otlp;
message AnyValue {
  oneof value { string string_value = 1; bool bool_value = 2; int64 int_value = 3; double double_value = 4; ArrayValue array_value = 5; }
}
message ArrayValue { repeated AnyValue values = 1; }
message KeyValue { string key = 1; AnyValue value = 2; }
message Resource { repeated KeyValue attributes = 1; }
message Status { string message = 2; int32 code = 3; }
message Span {
  bytes trace_id = 1; bytes span_id = 2; string trace_state = 3; bytes parent_span_id = 4;
  string name = 5; int32 kind = 6; fixed64 start_time_unix_nano = 7; fixed64 end_time_unix_nano = 8;
  repeated KeyValue attributes = 9; Status status = 15;
}
message ScopeSpans { repeated Span spans = 2; }
message ResourceSpans { Resource resource = 1; repeated ScopeSpans scope_spans = 2; }
message ExportTraceServiceRequest { repeated ResourceSpans resource_spans = 1; }
`;

/** One received span, ids as hex. */
export interface ReceivedSpan {
  service: string;
  traceId: string;
  spanId: string;
  /** "" for a root span. */
  parentSpanId: string;
  name: string;
  attributes: Record<string, unknown>;
  /** 2 when the span ended with an error. */
  statusCode: number;
}

/** A running receiver. */
export interface OtlpReceiver {
  /** The base URL to give as OTEL_EXPORTER_OTLP_ENDPOINT. */
  readonly url: string;
  readonly spans: ReceivedSpan[];
  close(): Promise<void>;
}

interface DecodedKeyValue {
  key: string;
  value?: {
    stringValue?: string;
    boolValue?: boolean;
    intValue?: number;
    doubleValue?: number;
    arrayValue?: { values?: { stringValue?: string }[] };
  };
}

function attributesOf(list: DecodedKeyValue[] | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const { key, value } of list ?? []) {
    out[key] =
      value?.stringValue ??
      value?.intValue ??
      value?.boolValue ??
      value?.doubleValue ??
      value?.arrayValue?.values?.map((v) => v.stringValue);
  }
  return out;
}

const hex = (bytes: Uint8Array | undefined) => Buffer.from(bytes ?? []).toString("hex");

/** Starts the receiver on 127.0.0.1 and a free port. */
export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const Request = protobuf
    .parse(OTLP_TRACE_PROTO, { keepCase: false })
    .root.lookupType("otlp.ExportTraceServiceRequest");
  const spans: ReceivedSpan[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      if (req.method !== "POST" || req.url !== "/v1/traces") {
        res.writeHead(404).end();
        return;
      }
      const request = Request.toObject(Request.decode(Buffer.concat(chunks)), {
        longs: Number,
        defaults: false,
      }) as {
        resourceSpans?: {
          resource?: { attributes?: DecodedKeyValue[] };
          scopeSpans?: {
            spans?: {
              traceId?: Uint8Array;
              spanId?: Uint8Array;
              parentSpanId?: Uint8Array;
              name?: string;
              attributes?: DecodedKeyValue[];
              status?: { code?: number };
            }[];
          }[];
        }[];
      };
      for (const resourceSpans of request.resourceSpans ?? []) {
        const service = String(attributesOf(resourceSpans.resource?.attributes)["service.name"] ?? "");
        for (const scope of resourceSpans.scopeSpans ?? []) {
          for (const span of scope.spans ?? []) {
            spans.push({
              service,
              traceId: hex(span.traceId),
              spanId: hex(span.spanId),
              parentSpanId: hex(span.parentSpanId),
              name: span.name ?? "",
              attributes: attributesOf(span.attributes),
              statusCode: span.status?.code ?? 0,
            });
          }
        }
      }
      // An empty ExportTraceServiceResponse: full success.
      res.writeHead(200, { "content-type": "application/x-protobuf" }).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    spans,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
