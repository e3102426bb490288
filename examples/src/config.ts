/** Configuration of the example worker process, read from environment variables. */

/** The example worker's configuration. */
export interface WorkerConfig {
  /** NATS_URL: comma-separated server URLs. Default nats://127.0.0.1:4222. */
  natsServers: string[];
  /** ACTIVITIES: comma-separated activity names to run; undefined (unset, empty or "all") means all. */
  activities: string[] | undefined;
  /** WORKER_CONCURRENCY: handlers at once per activity. Default 10. */
  concurrency: number;
  /** LOG_LEVEL: pino level. Default info. */
  logLevel: string;
  /** SIMULATED_LATENCY_FACTOR: scales the simulated latency; 0 turns it off. Default 1. */
  latencyFactor: number;
}

/** Thrown by {@link loadWorkerConfig} with every problem found, one per line. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n  ${problems.join("\n  ")}`);
    this.name = "ConfigError";
  }
}

const LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];

/**
 * Reads the worker's configuration from `env`, checking activity names against `known`.
 * @throws ConfigError naming every variable that is wrong
 */
export function loadWorkerConfig(
  env: Readonly<Record<string, string | undefined>>,
  known: readonly string[],
): WorkerConfig {
  const problems: string[] = [];
  const natsServers = (env["NATS_URL"] || "nats://127.0.0.1:4222")
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  if (natsServers.length === 0) problems.push("NATS_URL must name at least one server");

  let activities: string[] | undefined;
  const requested = (env["ACTIVITIES"] ?? "").trim();
  if (requested !== "" && requested !== "all") {
    activities = [
      ...new Set(
        requested
          .split(",")
          .map((s) => s.trim())
          .filter((s) => s !== ""),
      ),
    ];
    const unknown = activities.filter((name) => !known.includes(name));
    if (unknown.length > 0) {
      problems.push(
        `ACTIVITIES names unknown activities ${unknown.map((n) => `"${n}"`).join(", ")}; known: ${known.join(", ")}`,
      );
    }
    if (activities.length === 0)
      problems.push(`ACTIVITIES must name at least one activity, got "${requested}"`);
  }

  const concurrencyText = env["WORKER_CONCURRENCY"] ?? "10";
  const concurrency = Number(concurrencyText);
  if (!/^\d+$/.test(concurrencyText) || concurrency < 1 || concurrency > 1000) {
    problems.push(`WORKER_CONCURRENCY must be an integer from 1 to 1000, got "${concurrencyText}"`);
  }

  const logLevel = env["LOG_LEVEL"] || "info";
  if (!LEVELS.includes(logLevel))
    problems.push(`LOG_LEVEL must be one of ${LEVELS.join(", ")}, got "${logLevel}"`);

  const factorText = env["SIMULATED_LATENCY_FACTOR"] ?? "1";
  const latencyFactor = Number(factorText);
  if (
    factorText.trim() === "" ||
    !Number.isFinite(latencyFactor) ||
    latencyFactor < 0 ||
    latencyFactor > 100
  ) {
    problems.push(`SIMULATED_LATENCY_FACTOR must be a number from 0 to 100, got "${factorText}"`);
  }

  if (problems.length > 0) throw new ConfigError(problems);
  return { natsServers, activities, concurrency, logLevel, latencyFactor };
}
