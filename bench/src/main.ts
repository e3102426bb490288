#!/usr/bin/env node
/** `pnpm bench`: runs the benchmark, prints the report, writes the JSON figures. See docs/performance.md. */
import { BenchConfigError, USAGE, loadBenchConfig } from "./config";
import { renderReport } from "./report";
import { BenchInterruptedError, runBench } from "./run-bench";

async function main(): Promise<number> {
  let config;
  try {
    config = loadBenchConfig(process.argv.slice(2), process.env, process.cwd());
  } catch (err) {
    if (!(err instanceof BenchConfigError)) throw err;
    process.stderr.write(`${err.message}\n\n${USAGE}`);
    return 2;
  }
  if (config === "help") {
    process.stdout.write(USAGE);
    return 0;
  }
  const began = Date.now();
  const progress = (line: string) =>
    process.stderr.write(`[${((Date.now() - began) / 1000).toFixed(1).padStart(6)} s] ${line}\n`);
  const interrupted = new AbortController();
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      progress(`${signal}: stopping every process`);
      interrupted.abort();
    });
  }
  const { result, jsonFile } = await runBench(config, progress, interrupted.signal);
  process.stdout.write(`\n${renderReport(result, jsonFile)}\n`);
  const failed =
    result.problems.length > 0 ||
    result.workloads.some((w) => w.engine.failed > 0 || (w.floor?.failed ?? 0) > 0);
  return failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof BenchInterruptedError) {
      process.stderr.write(`bench: ${err.message}\n`);
      process.exit(130);
    }
    process.stderr.write(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
