import { ConfigError } from "@jetflow/service-runtime";
import { DEFAULT_MAX_IN_FLIGHT, DEFAULT_MAX_OUTPUT_BYTES, loadConfig } from "./config";

describe("loadConfig", () => {
  it("bounds outputs at 256 KiB by default, like Step Functions", () => {
    const config = loadConfig({});
    expect(config.maxOutputBytes).toBe(DEFAULT_MAX_OUTPUT_BYTES);
    expect(config.maxOutputBytes).toBe(262_144);
    expect(config.maxInFlight).toBe(DEFAULT_MAX_IN_FLIGHT);
    expect(config.ackWaitMs).toBe(3_000);
    expect(config.natsServers).toEqual(["nats://127.0.0.1:4222"]);
  });

  it("reads the result-ingestor's own variables", () => {
    const config = loadConfig({
      RESULT_MAX_OUTPUT_BYTES: "1024",
      RESULT_MAX_IN_FLIGHT: "8",
      RESULT_ACK_WAIT_MS: "5000",
    });
    expect(config).toMatchObject({ maxOutputBytes: 1024, maxInFlight: 8, ackWaitMs: 5000 });
  });

  it("reports every bad variable at once, by name", () => {
    let error: unknown;
    try {
      loadConfig({ RESULT_MAX_OUTPUT_BYTES: "lots", RESULT_MAX_IN_FLIGHT: "0", RESULT_ACK_WAIT_MS: "10" });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      'RESULT_MAX_OUTPUT_BYTES must be an integer from 1 to 67108864, got "lots"',
      'RESULT_MAX_IN_FLIGHT must be an integer from 1 to 100000, got "0"',
      'RESULT_ACK_WAIT_MS must be an integer from 1000 to 3600000, got "10"',
    ]);
  });
});
