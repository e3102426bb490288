import { context, trace } from "@opentelemetry/api";

// The service runtime has the same set-up; the worker SDK may not depend on it (it brings pino).

/** Tracing of a process: `shutdown` exports what is buffered. @internal */
export interface Tracing {
  readonly enabled: boolean;
  shutdown(): Promise<void>;
}

/**
 * Registers the OpenTelemetry SDK with an OTLP (protobuf over HTTP) exporter when
 * `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set; otherwise
 * nothing is registered, nothing of the SDK is even loaded (about 170 ms of start-up), and every
 * span the code starts is the API's no-op. The exporter reads the standard `OTEL_EXPORTER_OTLP_*`
 * variables (headers, timeout).
 */
export async function startTracing(
  service: string,
  env: Readonly<Record<string, string | undefined>>,
): Promise<Tracing> {
  if (!env["OTEL_EXPORTER_OTLP_ENDPOINT"] && !env["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"]) {
    return { enabled: false, shutdown: async () => {} };
  }
  const [{ AsyncLocalStorageContextManager }, { OTLPTraceExporter }, { resourceFromAttributes }, sdk] =
    await Promise.all([
      import("@opentelemetry/context-async-hooks"),
      import("@opentelemetry/exporter-trace-otlp-proto"),
      import("@opentelemetry/resources"),
      import("@opentelemetry/sdk-trace"),
    ]);
  const provider = new sdk.TracerProvider({
    resource: resourceFromAttributes({ "service.name": env["OTEL_SERVICE_NAME"] || service }),
    // Batches of spans, sent every second: a trace shows up quickly, at one request per second.
    spanProcessors: [
      new sdk.BatchSpanProcessor({ exporter: new OTLPTraceExporter(), scheduledDelayMillis: 1_000 }),
    ],
  });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(provider);
  return { enabled: true, shutdown: () => provider.shutdown() };
}
