import { ConfigError } from "@jetflow/service-runtime";
import { DEFAULT_MAX_OUTPUT_BYTES, loadConfig } from "./config";

describe("loadConfig: the bound on task outputs", () => {
  it("is 256 KiB by default, like Step Functions", () => {
    expect(loadConfig({}).maxOutputBytes).toBe(DEFAULT_MAX_OUTPUT_BYTES);
    expect(DEFAULT_MAX_OUTPUT_BYTES).toBe(262_144);
  });

  it("reads ORCH_MAX_OUTPUT_BYTES, and the result-ingestor's former RESULT_MAX_OUTPUT_BYTES when it is unset", () => {
    expect(loadConfig({ ORCH_MAX_OUTPUT_BYTES: "1024" }).maxOutputBytes).toBe(1024);
    expect(loadConfig({ RESULT_MAX_OUTPUT_BYTES: "2048" }).maxOutputBytes).toBe(2048);
    expect(
      loadConfig({ ORCH_MAX_OUTPUT_BYTES: "1024", RESULT_MAX_OUTPUT_BYTES: "2048" }).maxOutputBytes,
    ).toBe(1024);
  });

  it("reports a bad value by name", () => {
    let error: unknown;
    try {
      loadConfig({ ORCH_MAX_OUTPUT_BYTES: "lots", ORCH_MAX_IN_FLIGHT: "0" });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      'ORCH_MAX_IN_FLIGHT must be an integer from 1 to 100000, got "0"',
      'ORCH_MAX_OUTPUT_BYTES must be an integer from 1 to 67108864, got "lots"',
    ]);
  });
});
