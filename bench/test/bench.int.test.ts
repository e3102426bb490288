/**
 * Keeps `pnpm bench` from rotting: runs the built benchmark at a tiny size (a few executions per
 * workload) as its own process, exactly as `pnpm bench` does, and checks only that every
 * execution of the engine and of the floor succeeded. Needs `pnpm build` first, like the e2e tests.
 */
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { BenchResult } from "../src/report";

const outDir = mkdtempSync(join(tmpdir(), "jetflow-bench-smoke-"));
let bench: ChildProcess | undefined;
let exited: Promise<number | null> = Promise.resolve(null);

afterAll(async () => {
  // On a failed or timed-out test: SIGTERM makes the benchmark stop every process it started.
  if (bench && bench.exitCode === null && bench.signalCode === null) {
    bench.kill("SIGTERM");
    await exited;
  }
  rmSync(outDir, { recursive: true, force: true });
});

it("runs every workload at a tiny size with every execution succeeding, the services' and the server's memory capped", async () => {
  const child = spawn(
    process.execPath,
    // The services and nats-server run with the memory limits of the Kubernetes manifests, as
    // `--service-heap` and `--server-memory` give them.
    [
      resolve(__dirname, "../dist/main.js"),
      ...["--scale", "0.005", "--service-heap", "384", "--server-memory", "900", "--out", outDir],
    ],
    { env: { PATH: process.env.PATH }, stdio: ["ignore", "pipe", "pipe"] },
  );
  bench = child;
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  exited = new Promise((resolveExit) => child.once("exit", (code) => resolveExit(code)));

  const code = await exited;
  if (code !== 0) throw new Error(`pnpm bench exited with ${code}:\n${output}`);

  const files = readdirSync(outDir).filter((f) => f.endsWith(".json"));
  expect(files).toHaveLength(1);
  const result = JSON.parse(readFileSync(join(outDir, files[0] as string), "utf8")) as BenchResult;
  expect(result.workloads.map((w) => w.workload)).toEqual(["W3", "W1", "W1", "W4", "W2", "W2", "W5"]);
  for (const w of result.workloads) {
    expect({ id: w.id, engine: w.engine.succeeded }).toEqual({ id: w.id, engine: w.engine.executions });
    // W5 runs on the engine only.
    if (w.workload !== "W5") {
      expect({ id: w.id, floor: w.floor?.succeeded }).toEqual({ id: w.id, floor: w.floor?.executions });
    }
  }
  expect(result.problems).toEqual([]);
  expect(result.settings.serviceHeapMb).toBe(384);
  expect(output).toContain("services' heap: --max-old-space-size=384");
  // Read back from the server's own environment by the benchmark.
  expect(result.settings.serverGoMemLimit).toBe("900MiB");
  expect(output).toContain("nats-server's memory: GOMEMLIMIT=900MiB");
  expect(output).toContain("engine/floor");
});
