/**
 * Configuration from environment variables, validated all at once: a service that starts with
 * bad configuration fails with one error listing every variable that is wrong.
 */

/** Thrown by config loaders; `problems` has one line per bad variable. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n  ${problems.join("\n  ")}`);
  }
}

/** Reads typed values from an env map, collecting problems instead of throwing on the first. */
export class EnvReader {
  readonly problems: string[] = [];
  constructor(private readonly env: Readonly<Record<string, string | undefined>>) {}

  /** A string; `fallback` when unset or empty. */
  string(name: string, fallback: string): string {
    const value = this.env[name];
    return value === undefined || value === "" ? fallback : value;
  }

  /** An optional string: undefined when unset or empty. */
  optionalString(name: string): string | undefined {
    const value = this.env[name];
    return value === undefined || value === "" ? undefined : value;
  }

  /** An integer within [min, max]; `fallback` when unset. */
  integer(name: string, fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
    const raw = this.env[name];
    if (raw === undefined || raw === "") return fallback;
    const value = Number(raw);
    if (!/^-?\d+$/.test(raw.trim()) || !Number.isSafeInteger(value) || value < min || value > max) {
      this.problems.push(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
      return fallback;
    }
    return value;
  }

  /** One of the allowed values; `fallback` when unset. */
  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const raw = this.env[name];
    if (raw === undefined || raw === "") return fallback;
    if (!(allowed as readonly string[]).includes(raw)) {
      this.problems.push(`${name} must be one of ${allowed.join(", ")}, got "${raw}"`);
      return fallback;
    }
    return raw as T;
  }

  /** A comma-separated list of NATS URLs. */
  natsServers(name: string, fallback: string): string[] {
    const servers = this.string(name, fallback)
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s.length > 0);
    for (const server of servers) {
      if (!/^(nats|tls|ws|wss):\/\/[^\s/]+$/.test(server) && !/^[^\s/:]+:\d+$/.test(server)) {
        this.problems.push(
          `${name} must be a comma-separated list of nats://host:port URLs, got "${server}"`,
        );
      }
    }
    return servers;
  }

  /** Throws ConfigError when any read found a problem. */
  done(): void {
    if (this.problems.length > 0) throw new ConfigError(this.problems);
  }
}

/** Settings every service shares. */
export interface BaseConfig {
  /** NATS_URL: comma-separated server URLs. Default nats://127.0.0.1:4222. */
  natsServers: string[];
  /** NATS_CREDS: path to a .creds file; or NATS_USER and NATS_PASSWORD. */
  natsCredsFile?: string;
  natsUser?: string;
  natsPassword?: string;
  /**
   * NATS_TLS_CA, NATS_TLS_CERT, NATS_TLS_KEY: PEM files for TLS to NATS (a CA to trust; a client
   * certificate for servers that verify them). When set, a server without TLS is refused.
   * Default unset: plaintext unless the URL says `tls://` or the server requires TLS.
   */
  natsTls?: NatsTlsFiles;
  /** LOG_LEVEL: pino level. Default info. */
  logLevel: "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";
  /** HEALTH_PORT: port of the /healthz and /readyz endpoints; 0 (default) disables them. */
  healthPort: number;
  /** HEALTH_HOST: interface of the health endpoints. Default 0.0.0.0 (pods are probed from outside). */
  healthHost: string;
  /** JETFLOW_REPLICAS: replicas of the streams and buckets this service creates. Default 1. */
  replicas: number;
  /** SHUTDOWN_TIMEOUT_MS: how long a graceful stop may take before the process exits anyway. Default 20000. */
  shutdownTimeoutMs: number;
}

/** PEM files for TLS to NATS; see {@link BaseConfig.natsTls}. */
export interface NatsTlsFiles {
  caFile?: string | undefined;
  certFile?: string | undefined;
  keyFile?: string | undefined;
}

function readNatsTls(reader: EnvReader): NatsTlsFiles | undefined {
  const caFile = reader.optionalString("NATS_TLS_CA");
  const certFile = reader.optionalString("NATS_TLS_CERT");
  const keyFile = reader.optionalString("NATS_TLS_KEY");
  if ((certFile === undefined) !== (keyFile === undefined)) {
    reader.problems.push("NATS_TLS_CERT and NATS_TLS_KEY must be set together");
  }
  return caFile === undefined && certFile === undefined && keyFile === undefined
    ? undefined
    : { caFile, certFile, keyFile };
}

/** Reads the shared settings; the caller reads its own with the same reader, then calls `done()`. */
export function readBaseConfig(reader: EnvReader): BaseConfig {
  const natsUser = reader.optionalString("NATS_USER");
  const natsPassword = reader.optionalString("NATS_PASSWORD");
  if ((natsUser === undefined) !== (natsPassword === undefined)) {
    reader.problems.push("NATS_USER and NATS_PASSWORD must be set together");
  }
  return {
    natsServers: reader.natsServers("NATS_URL", "nats://127.0.0.1:4222"),
    natsCredsFile: reader.optionalString("NATS_CREDS"),
    natsUser,
    natsPassword,
    natsTls: readNatsTls(reader),
    logLevel: reader.oneOf(
      "LOG_LEVEL",
      ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const,
      "info",
    ),
    healthPort: reader.integer("HEALTH_PORT", 0, 0, 65535),
    healthHost: reader.string("HEALTH_HOST", "0.0.0.0"),
    replicas: reader.integer("JETFLOW_REPLICAS", 1, 1, 5),
    shutdownTimeoutMs: reader.integer("SHUTDOWN_TIMEOUT_MS", 20_000, 100, 600_000),
  };
}
