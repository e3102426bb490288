/** What {@link renderServerConfig} writes. */
export interface ServerConfigSpec {
  /** `server_name`; also names the node in a cluster. */
  serverName: string;
  /** Client port; `-1` lets the server pick one. */
  port: number;
  /** The address every listener (client, monitoring, routes) binds. Default `127.0.0.1`. */
  host?: string;
  /** Where the server writes `<binary>_<pid>.ports`, the file that tells us its ports. */
  portsFileDir: string;
  /** JetStream `store_dir`, or `undefined` to disable JetStream. */
  storeDir: string | undefined;
  /** Text of a user config file, written first so that the settings below replace its own. */
  base?: string;
  /** Route settings of a cluster node. */
  cluster?: { name: string; port: number; routes: readonly string[] };
  /** Adds `debug` and `trace` logging. */
  debug?: boolean;
  /** Text appended last, e.g. `authorization { ... }`. */
  extraConfig?: string;
}

/**
 * Renders a nats-server config file. Settings come after `base` because the config parser keeps the last
 * value of a repeated key, so a user file cannot move the listen address or the store out of our temp dir.
 */
export function renderServerConfig(spec: ServerConfigSpec): string {
  const lines: string[] = [];
  if (spec.base !== undefined) lines.push(spec.base, "");
  const host = spec.host ?? "127.0.0.1";
  lines.push(
    "# written by @jetflow/testing",
    `server_name: ${quote(spec.serverName)}`,
    `listen: ${quote(`${host}:${spec.port}`)}`,
    // The monitoring port serves /healthz, which says when a cluster node has caught up after a restart.
    `http: ${quote(`${host}:-1`)}`,
    `ports_file_dir: ${quote(spec.portsFileDir)}`,
  );
  if (spec.storeDir === undefined) {
    lines.push("jetstream: disabled");
  } else {
    lines.push("jetstream {", `  store_dir: ${quote(spec.storeDir)}`, "}");
  }
  if (spec.cluster !== undefined) {
    const routes = spec.cluster.routes.map(quote).join(", ");
    lines.push(
      "cluster {",
      `  name: ${quote(spec.cluster.name)}`,
      `  listen: ${quote(`${host}:${spec.cluster.port}`)}`,
      `  routes: [${routes}]`,
      "}",
    );
  }
  if (spec.debug === true) lines.push("debug: true", "trace: true");
  if (spec.extraConfig !== undefined) lines.push("", spec.extraConfig);
  return `${lines.join("\n")}\n`;
}

/** Quotes a string for the config parser, which reads JSON-style double-quoted strings. */
function quote(value: string): string {
  return JSON.stringify(value);
}
