import { ConfigError, EnvReader, readBaseConfig } from "./config";

function load(env: Record<string, string>) {
  const reader = new EnvReader(env);
  const config = readBaseConfig(reader);
  reader.done();
  return config;
}

describe("readBaseConfig", () => {
  it("has defaults for a laptop", () => {
    expect(load({})).toEqual({
      natsServers: ["nats://127.0.0.1:4222"],
      natsCredsFile: undefined,
      natsUser: undefined,
      natsPassword: undefined,
      logLevel: "info",
      healthPort: 0,
      healthHost: "0.0.0.0",
      replicas: 1,
      shutdownTimeoutMs: 20_000,
    });
  });

  it("reads a cluster's URLs and replicas", () => {
    const config = load({ NATS_URL: "nats://a:4222, nats://b:4222", JETFLOW_REPLICAS: "3" });
    expect(config.natsServers).toEqual(["nats://a:4222", "nats://b:4222"]);
    expect(config.replicas).toBe(3);
  });

  it("reports every bad variable at once, by name", () => {
    let error: unknown;
    try {
      load({ HEALTH_PORT: "abc", LOG_LEVEL: "loud", JETFLOW_REPLICAS: "9", NATS_USER: "x" });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      "NATS_USER and NATS_PASSWORD must be set together",
      'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "loud"',
      'HEALTH_PORT must be an integer from 0 to 65535, got "abc"',
      'JETFLOW_REPLICAS must be an integer from 1 to 5, got "9"',
    ]);
  });
});
