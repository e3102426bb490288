import { ConfigError } from "@jetflow/service-runtime";
import { loadConfig } from "./config";

describe("loadConfig", () => {
  it("has defaults for a laptop", () => {
    expect(loadConfig({})).toMatchObject({
      natsServers: ["nats://127.0.0.1:4222"],
      dispatchConcurrency: 64,
      timerConcurrency: 256,
      timerMaxDelayMs: 3_600_000,
      ackWaitMs: 3_000,
      retryDelayMs: 1_000,
    });
  });

  it("reads the dispatcher's variables", () => {
    expect(
      loadConfig({
        DISPATCH_CONCURRENCY: "8",
        TIMER_CONCURRENCY: "16",
        TIMER_MAX_DELAY_MS: "60000",
        DISPATCH_ACK_WAIT_MS: "5000",
        DISPATCH_RETRY_DELAY_MS: "50",
      }),
    ).toMatchObject({
      dispatchConcurrency: 8,
      timerConcurrency: 16,
      timerMaxDelayMs: 60_000,
      ackWaitMs: 5_000,
      retryDelayMs: 50,
    });
  });

  it("reports every bad variable at once, by name", () => {
    let error: unknown;
    try {
      loadConfig({ DISPATCH_CONCURRENCY: "0", TIMER_MAX_DELAY_MS: "soon", LOG_LEVEL: "loud" });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "loud"',
      'DISPATCH_CONCURRENCY must be an integer from 1 to 10000, got "0"',
      'TIMER_MAX_DELAY_MS must be an integer from 1000 to 604800000, got "soon"',
    ]);
  });
});
