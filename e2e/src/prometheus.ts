/**
 * A real Prometheus (Debian's `prometheus` binary) for end-to-end tests: started on 127.0.0.1 with
 * a temp config and data dir, scraping the given targets every second, queried over its HTTP API.
 */
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { accessSync, constants, createWriteStream, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { freePort, waitFor } from "@jetflow/testing";

/** One scrape job: a name and `host:port` targets serving `/metrics`. */
export interface ScrapeJob {
  job: string;
  targets: string[];
}

/** A running Prometheus. */
export interface Prometheus {
  readonly url: string;
  /** The value of an instant PromQL query that returns one sample, or undefined when empty. */
  queryValue(promql: string): Promise<number | undefined>;
  /** The samples of an instant query, each with its labels. */
  query(promql: string): Promise<{ metric: Record<string, string>; value: number }[]>;
  stop(): Promise<void>;
}

const INSTALL_HINT = 'install it with "apt-get update && apt-get install prometheus" or set PROMETHEUS_BIN';

/** The prometheus binary: `PROMETHEUS_BIN`, else on `PATH`, else Debian's /usr/bin/prometheus. */
export function findPrometheus(env: NodeJS.ProcessEnv = process.env): string {
  const candidates = [
    env.PROMETHEUS_BIN,
    ...(env.PATH ?? "").split(delimiter).map((dir) => (dir ? join(dir, "prometheus") : undefined)),
    "/usr/bin/prometheus",
  ];
  for (const candidate of candidates) {
    if (!candidate) continue;
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // try the next one
    }
  }
  throw new Error(`prometheus not found: ${INSTALL_HINT}`);
}

/** Starts Prometheus scraping `jobs` every second; resolves once it answers `/-/ready`. */
export async function startPrometheus(jobs: ScrapeJob[]): Promise<Prometheus> {
  const dir = mkdtempSync(join(tmpdir(), "jetflow-prometheus-"));
  const config = [
    "global:",
    "  scrape_interval: 1s",
    "  scrape_timeout: 900ms",
    "scrape_configs:",
    ...jobs.flatMap((j) => [
      `  - job_name: ${JSON.stringify(j.job)}`,
      "    static_configs:",
      `      - targets: ${JSON.stringify(j.targets)}`,
    ]),
  ].join("\n");
  writeFileSync(join(dir, "prometheus.yml"), `${config}\n`);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const log = createWriteStream(join(dir, "prometheus.log"));
  const child: ChildProcess = spawn(
    findPrometheus(),
    [
      `--config.file=${join(dir, "prometheus.yml")}`,
      `--storage.tsdb.path=${join(dir, "data")}`,
      `--web.listen-address=127.0.0.1:${port}`,
      // Instant queries look back this far for the latest sample; scrapes are every second.
      "--query.lookback-delta=10s",
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  let exitedEarly = false;
  void exited.then(() => (exitedEarly = true));
  const stop = async (): Promise<void> => {
    if (!exitedEarly) child.kill("SIGTERM");
    await exited;
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(
      async () => {
        if (exitedEarly) throw new Error(`prometheus exited at start; see ${join(dir, "prometheus.log")}`);
        return (await fetch(`${url}/-/ready`).catch(() => undefined))?.ok === true;
      },
      { timeoutMs: 30_000, message: `prometheus did not become ready at ${url}` },
    );
  } catch (err) {
    await stop();
    throw err;
  }
  const query = async (promql: string) => {
    const response = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(promql)}`);
    const body = (await response.json()) as {
      status: string;
      error?: string;
      data?: { resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] };
    };
    if (body.status !== "success" || !body.data) {
      throw new Error(`query ${JSON.stringify(promql)} failed: ${body.error ?? response.statusText}`);
    }
    return body.data.result.map((sample) => ({ metric: sample.metric, value: Number(sample.value[1]) }));
  };
  return {
    url,
    query,
    async queryValue(promql) {
      const samples = await query(promql);
      if (samples.length > 1)
        throw new Error(`query ${JSON.stringify(promql)} returned ${samples.length} samples`);
      return samples[0]?.value;
    },
    stop,
  };
}
