import { ConfigError, loadWorkerConfig } from "./config";

const known = ["a", "b", "c"];

it("runs every activity by default", () => {
  expect(loadWorkerConfig({}, known)).toEqual({
    natsServers: ["nats://127.0.0.1:4222"],
    activities: undefined,
    concurrency: 10,
    logLevel: "info",
    latencyFactor: 1,
  });
  expect(loadWorkerConfig({ ACTIVITIES: "all" }, known).activities).toBeUndefined();
});

it("selects the activities named in ACTIVITIES", () => {
  const config = loadWorkerConfig(
    { ACTIVITIES: " a, c ,a", NATS_URL: "nats://x:1, nats://y:2", SIMULATED_LATENCY_FACTOR: "0" },
    known,
  );
  expect(config).toMatchObject({
    activities: ["a", "c"],
    natsServers: ["nats://x:1", "nats://y:2"],
    latencyFactor: 0,
  });
});

it("reports every problem at once, naming the variable", () => {
  let error: unknown;
  try {
    loadWorkerConfig(
      { ACTIVITIES: "a,zz", WORKER_CONCURRENCY: "0", LOG_LEVEL: "loud", SIMULATED_LATENCY_FACTOR: "x" },
      known,
    );
  } catch (err) {
    error = err;
  }
  expect(error).toBeInstanceOf(ConfigError);
  expect((error as ConfigError).problems).toEqual([
    'ACTIVITIES names unknown activities "zz"; known: a, b, c',
    'WORKER_CONCURRENCY must be an integer from 1 to 1000, got "0"',
    'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "loud"',
    'SIMULATED_LATENCY_FACTOR must be a number from 0 to 100, got "x"',
  ]);
});
