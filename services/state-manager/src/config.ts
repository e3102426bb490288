import { EnvReader, readBaseConfig } from "@jetflow/service-runtime";
import type { BaseConfig } from "@jetflow/service-runtime";
import type { PurgerConfig } from "./purger";
import { parseRetention } from "./retention";

/** Default bound on an encoded snapshot: well under the server's 1 MiB default max payload. */
export const DEFAULT_MAX_SNAPSHOT_BYTES = 900 * 1024;

/** Default number of executions whose KV revision the state-manager remembers. */
export const DEFAULT_CACHE_ENTRIES = 50_000;

/** Default lag, in events, of a running execution's stored snapshot behind its history. */
export const DEFAULT_SNAPSHOT_EVERY_EVENTS = 64;

/** Configuration of the state-manager. */
export interface Config extends BaseConfig {
  /**
   * STATE_MAX_SNAPSHOT_BYTES: largest encoded snapshot a commit may store; a bigger one is refused
   * before anything is written. Default 921600 (900 KiB).
   */
  maxSnapshotBytes: number;
  /**
   * STATE_CACHE_ENTRIES: how many executions' KV revisions are kept in memory (LRU), so that a
   * snapshot write is one compare-and-set instead of a read and a write. 0 disables it. Default 50000.
   */
  cacheEntries: number;
  /**
   * STATE_SNAPSHOT_EVERY_EVENTS: how many events a running execution's stored snapshot may lag its
   * history before a commit writes it; a finished execution's, a new one's and one whose status
   * changed are always written. 0 writes it at every commit. Default 64. See docs/architecture.md,
   * "The snapshot is a projection".
   */
  snapshotEveryEvents: number;
  /**
   * Retention of finished executions: RETENTION_DEFAULT (a duration such as `30d`; `0`, the
   * default, keeps them forever), RETENTION_WORKFLOWS (`name=duration,...` overriding it per
   * workflow), RETENTION_INTERVAL_MS (between passes, default 60000), RETENTION_BATCH_SIZE (most
   * executions purged per pass, default 100), RETENTION_SCAN_LIMIT (most index entries read per
   * pass, default 10000). See docs/operations.md.
   */
  retention: PurgerConfig;
}

/**
 * Reads the state-manager's configuration from `env` (never from process.env directly).
 * @throws ConfigError naming every variable that is wrong
 */
export function loadConfig(env: Readonly<Record<string, string | undefined>>): Config {
  const reader = new EnvReader(env);
  const config: Config = {
    ...readBaseConfig(reader),
    // 64 MiB is the largest max_payload a nats-server accepts.
    maxSnapshotBytes: reader.integer(
      "STATE_MAX_SNAPSHOT_BYTES",
      DEFAULT_MAX_SNAPSHOT_BYTES,
      1024,
      64 * 1024 * 1024,
    ),
    cacheEntries: reader.integer("STATE_CACHE_ENTRIES", DEFAULT_CACHE_ENTRIES, 0, 10_000_000),
    snapshotEveryEvents: reader.integer(
      "STATE_SNAPSHOT_EVERY_EVENTS",
      DEFAULT_SNAPSHOT_EVERY_EVENTS,
      0,
      100_000,
    ),
    retention: {
      policy: parseRetention(
        reader.string("RETENTION_DEFAULT", "0"),
        reader.string("RETENTION_WORKFLOWS", ""),
        reader.problems,
      ),
      intervalMs: reader.integer("RETENTION_INTERVAL_MS", 60_000, 100, 86_400_000),
      batchSize: reader.integer("RETENTION_BATCH_SIZE", 100, 1, 100_000),
      scanLimit: reader.integer("RETENTION_SCAN_LIMIT", 10_000, 1, 10_000_000),
    },
  };
  reader.done();
  return config;
}
