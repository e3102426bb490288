import { ConfigError } from "@jetflow/service-runtime";
import { DEFAULT_CACHE_ENTRIES, DEFAULT_MAX_SNAPSHOT_BYTES, loadConfig } from "./config";

describe("loadConfig", () => {
  it("has defaults for the snapshot bound and the revision cache", () => {
    const config = loadConfig({});
    expect(config.maxSnapshotBytes).toBe(DEFAULT_MAX_SNAPSHOT_BYTES);
    expect(config.maxSnapshotBytes).toBe(921_600);
    expect(config.cacheEntries).toBe(DEFAULT_CACHE_ENTRIES);
    expect(config.natsServers).toEqual(["nats://127.0.0.1:4222"]);
  });

  it("reads the state-manager's own variables", () => {
    const config = loadConfig({ STATE_MAX_SNAPSHOT_BYTES: "4096", STATE_CACHE_ENTRIES: "0" });
    expect(config.maxSnapshotBytes).toBe(4096);
    expect(config.cacheEntries).toBe(0);
  });

  it("reports every bad variable at once, by name", () => {
    let error: unknown;
    try {
      loadConfig({ STATE_MAX_SNAPSHOT_BYTES: "big", STATE_CACHE_ENTRIES: "-1", LOG_LEVEL: "loud" });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "loud"',
      'STATE_MAX_SNAPSHOT_BYTES must be an integer from 1024 to 67108864, got "big"',
      'STATE_CACHE_ENTRIES must be an integer from 0 to 10000000, got "-1"',
    ]);
  });
});
