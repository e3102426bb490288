import { context, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { BatchSpanProcessor, TracerProvider } from "@opentelemetry/sdk-trace";

// The service runtime has the same set-up; the worker SDK may not depend on it (it brings pino).

/** Tracing of a process: `shutdown` exports what is buffered. @internal */
export interface Tracing {
  readonly enabled: boolean;
  shutdown(): Promise<void>;
}

/**
 * Registers the OpenTelemetry SDK with an OTLP (protobuf over HTTP) exporter when
 * `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set; otherwise
 * nothing is registered and every span the code starts is the API's no-op. The exporter reads the
 * standard `OTEL_EXPORTER_OTLP_*` variables (headers, timeout).
 */
export function startTracing(service: string, env: Readonly<Record<string, string | undefined>>): Tracing {
  if (!env["OTEL_EXPORTER_OTLP_ENDPOINT"] && !env["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"]) {
    return { enabled: false, shutdown: async () => {} };
  }
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ "service.name": env["OTEL_SERVICE_NAME"] || service }),
    // Batches of spans, sent every second: a trace shows up quickly, at one request per second.
    spanProcessors: [
      new BatchSpanProcessor({ exporter: new OTLPTraceExporter(), scheduledDelayMillis: 1_000 }),
    ],
  });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(provider);
  return { enabled: true, shutdown: () => provider.shutdown() };
}
