/**
 * One benchmark run: a fresh nats-server and the five services as processes (the e2e harness),
 * worker processes for the engine and for the floor, every workload on the floor then on the
 * engine, then everything stopped; the results as one JSON file and a printed report.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { cpus, release, totalmem, type } from "node:os";
import { join, resolve } from "node:path";
import { consumers } from "@jetflow/contracts";
import { ManagedProcess, SERVICE_NAMES, startEngine } from "@jetflow/e2e";
import type { Engine } from "@jetflow/e2e";
import { waitFor } from "@jetflow/testing";
import { connect } from "@nats-io/transport-node";
import type { NatsConnection } from "@nats-io/transport-node";
import type { BenchConfig, WorkloadId } from "./config";
import { EngineRuns } from "./engine-runs";
import { EventWatcher } from "./event-watcher";
import { nowMs, toFigures } from "./figures";
import type { ExecutionTiming, RunFigures } from "./figures";
import { Floor } from "./floor";
import { floor as floorNames } from "./floor-resources";
import { environmentValue, loadAverages } from "./proc";
import { summariseProfiles } from "./profile";
import { NOOP_ACTIVITY } from "./workflows";
import type { ProfileSummary } from "./profile";
import { checkMemory, checkTargets } from "./report";
import type { BenchResult, MachineInfo, MeasuredRun, WorkloadResult } from "./report";
import { readConsumers, startSampler } from "./sampler";
import type { Watched } from "./sampler";

/** How the two sides run a workload; the engine and the floor both implement it. */
interface Side {
  chains(executions: number, steps: number, recordSteps?: boolean): Promise<ExecutionTiming[]>;
  fanOut(items: number): Promise<RunFigures>;
  /** W5, on the engine only: the floor has no Map to compare with at this size. */
  generatedFanOut?(items: number): Promise<RunFigures>;
}

/** One workload at one size, as both sides run it. */
interface Plan {
  id: string;
  workload: WorkloadId;
  title: string;
  size: number;
  run: (side: Side) => Promise<RunFigures>;
  /** Run on the engine only (W5: its target is against W2 10,000, not the floor). */
  engineOnly?: boolean;
}

/** Thrown by `runBench` when its signal aborts; every process was stopped. */
export class BenchInterruptedError extends Error {
  override readonly name = "BenchInterruptedError";
  constructor() {
    super("the benchmark was interrupted; every process it started was stopped");
  }
}

/** The durable consumers of the engine and of the floor: the backlogs worth watching. */
const durable: ReadonlySet<string> = new Set([
  consumers.commands,
  consumers.eventEffects,
  consumers.timers,
  consumers.results,
  consumers.task(NOOP_ACTIVITY),
  floorNames.workerConsumer,
  floorNames.driverConsumer,
]);

function plans(config: BenchConfig): Plan[] {
  const s = config.sizes;
  const chains = (executions: number, steps: number) => async (side: Side) => {
    const first = nowMs();
    return toFigures(await side.chains(executions, steps), steps, first);
  };
  const all: Record<WorkloadId, Plan[]> = {
    W3: [
      {
        id: "W3",
        workload: "W3",
        title: `W3 ${s.w3Repetitions}× one ${s.w3Steps}-step execution alone`,
        size: s.w3Repetitions,
        run: async (side) => {
          const first = nowMs();
          const timings: ExecutionTiming[] = [];
          for (let i = 0; i < s.w3Repetitions; i++) timings.push(...(await side.chains(1, s.w3Steps, true)));
          return toFigures(timings, s.w3Steps, first);
        },
      },
    ],
    W1: s.w1Executions.map((n) => ({
      id: `W1-${n}`,
      workload: "W1" as const,
      title: `W1 ${n} × ${s.w1Steps} steps at once`,
      size: n,
      run: chains(n, s.w1Steps),
    })),
    W2: s.w2Items.map((items) => ({
      id: `W2-${items}`,
      workload: "W2" as const,
      title: `W2 Map of ${items} + join`,
      size: items,
      run: (side: Side) => side.fanOut(items),
    })),
    W5: [
      {
        id: `W5-${s.w5Items}`,
        workload: "W5",
        title: `W5 Map of ${s.w5Items} made items + join`,
        size: s.w5Items,
        engineOnly: true,
        run: (side: Side) => {
          if (!side.generatedFanOut) throw new Error("W5 runs on the engine only");
          return side.generatedFanOut(s.w5Items);
        },
      },
    ],
    W4: [
      {
        id: `W4-${s.w4Executions}`,
        workload: "W4",
        title: `W4 ${s.w4Executions} × ${s.w4Steps} steps at once`,
        size: s.w4Executions,
        run: chains(s.w4Executions, s.w4Steps),
      },
    ],
  };
  return config.workloads.flatMap((w) => all[w]);
}

/** Waits until none of `consumers` has messages pending or unacknowledged. */
async function waitQuiet(monitorUrl: string, consumers: ReadonlySet<string>): Promise<boolean> {
  try {
    await waitFor(
      async () =>
        (await readConsumers(monitorUrl)).every(
          (c) => !consumers.has(c.name) || c.num_pending + c.num_ack_pending === 0,
        ),
      { timeoutMs: 60_000, intervalMs: 100, message: "the engine to be idle" },
    );
    return true;
  } catch {
    return false;
  }
}

/** The commit of the tree the services were built from, and the engine files changed since. */
function sourceInfo(): MachineInfo["source"] {
  const root = resolve(__dirname, "../..");
  const git = (...args: string[]) => execFileSync("git", args, { cwd: root, encoding: "utf8" }).trim();
  try {
    return {
      commit: git("rev-parse", "HEAD"),
      changedFiles: git("status", "--porcelain", "--", "packages", "services")
        .split("\n")
        .filter((l) => l !== "")
        .map((l) => l.slice(3)),
    };
  } catch {
    return { commit: "unknown", changedFiles: [] };
  }
}

function machineInfo(natsServer: string, source: MachineInfo["source"]): MachineInfo {
  const cpu = cpus();
  return {
    cores: cpu.length,
    cpuModel: cpu[0]?.model.trim() ?? "unknown",
    memoryMb: Math.round(totalmem() / 1e6),
    os: `${type()} ${release()}`,
    node: process.version,
    natsServer,
    source,
    loadAverageBefore: loadAverages(),
    loadAverageAfter: loadAverages(),
  };
}

/** Where a run's files go, and the name of its JSON file. */
function stampOf(date: Date): string {
  return date.toISOString().replace(/[:.]/g, "-");
}

/**
 * Runs the benchmark as `config` says and writes the JSON file; `progress` receives a line per
 * step of the run. Every process it starts is stopped before it returns or throws.
 */
export async function runBench(
  config: BenchConfig,
  progress: (line: string) => void,
  signal?: AbortSignal,
): Promise<{ result: BenchResult; jsonFile: string }> {
  const startedAt = new Date();
  const started = nowMs();
  const stamp = stampOf(startedAt);
  mkdirSync(config.outDir, { recursive: true });
  const profileDir = resolve(config.outDir, `profiles-${stamp}`);
  // Node 20 refuses --cpu-prof in NODE_OPTIONS; the preload starts the same profiler instead.
  const profileEnv: Record<string, string> = config.profile
    ? {
        NODE_OPTIONS: `--require ${JSON.stringify(join(__dirname, "cpu-profile-preload.js"))}`,
        BENCH_CPU_PROF_DIR: profileDir,
      }
    : {};
  if (config.profile) mkdirSync(profileDir, { recursive: true });
  // The services' heap limit, as the manifests set it; the workers (engine and floor alike) keep
  // Node's default.
  const nodeOptions = [
    profileEnv.NODE_OPTIONS,
    config.serviceHeapMb === undefined ? undefined : `--max-old-space-size=${config.serviceHeapMb}`,
  ].filter((o) => o !== undefined);
  const serviceEnv: Record<string, string> = {
    ...profileEnv,
    ...(nodeOptions.length > 0 ? { NODE_OPTIONS: nodeOptions.join(" ") } : {}),
  };
  const loadBefore = loadAverages();
  // Read first: the tree is shared and may move while the run goes on.
  const source = sourceInfo();

  // Tracing is measured by running with OTEL_EXPORTER_OTLP_ENDPOINT set (docs/performance.md).
  const tracingEnv: Record<string, string> = process.env.OTEL_EXPORTER_OTLP_ENDPOINT
    ? { OTEL_EXPORTER_OTLP_ENDPOINT: process.env.OTEL_EXPORTER_OTLP_ENDPOINT }
    : {};
  progress("starting nats-server and the five services");
  const goMemLimit = config.serverMemoryMib === undefined ? undefined : `${config.serverMemoryMib}MiB`;
  const engine: Engine = await startEngine({
    env: { LOG_LEVEL: "info", ...serviceEnv, ...tracingEnv },
    ...(goMemLimit === undefined ? {} : { natsServerEnv: { GOMEMLIMIT: goMemLimit } }),
  });
  const pidNames = new Map<number, string>();
  const workers: ManagedProcess[] = [];
  const floorWorkers: ManagedProcess[] = [];
  let nc: NatsConnection | undefined;
  let watcher: EventWatcher | undefined;
  let floor: Floor | undefined;
  const problems: string[] = [];
  const workloads: WorkloadResult[] = [];
  let natsVersion = "unknown";
  let serverGoMemLimit: string | undefined;
  let completed = false;
  // An abort (SIGINT, SIGTERM) ends the run where it is; the finally below stops every process.
  const aborted = new Promise<never>((_, reject) => {
    const fail = () => reject(new BenchInterruptedError());
    if (signal?.aborted) fail();
    signal?.addEventListener("abort", fail, { once: true });
  });
  const work = async (): Promise<void> => {
    // The floor's driver runs on this connection: tuned as a raw JetStream client would be (without
    // async traces every publish allocates two Errors with stack traces; see docs/performance.md).
    nc = await connect({ servers: engine.natsUrl, name: "bench", noAsyncTraces: true });
    natsVersion = nc.info?.version ?? natsVersion;
    const spawnWorkers = async (script: string, label: string, ready: string, into: ManagedProcess[]) => {
      for (let i = 0; i < config.workerProcesses; i++) {
        const worker = new ManagedProcess(
          `${label}#${i}`,
          join(__dirname, script),
          {
            PATH: process.env.PATH,
            NATS_URL: engine.natsUrl,
            CONCURRENCY: String(config.workerConcurrency),
            ...profileEnv,
            ...tracingEnv,
          },
          join(engine.logDir, `${label}-${i}.log`),
        );
        worker.start();
        into.push(worker);
      }
      await Promise.all(into.map((w) => w.waitForLog(ready)));
    };
    progress(`starting ${config.workerProcesses} engine worker process(es)`);
    await spawnWorkers("bench-worker.js", "worker", "worker started", workers);
    for (const name of SERVICE_NAMES) {
      for (const p of engine.services[name]) if (p.pid !== undefined) pidNames.set(p.pid, name);
    }
    for (const w of workers) if (w.pid !== undefined) pidNames.set(w.pid, "worker");

    const natsPid = engine.nats.pid;
    // Read back, so that the report says what the server really ran with.
    if (goMemLimit !== undefined && natsPid !== undefined) {
      serverGoMemLimit = environmentValue(natsPid, "GOMEMLIMIT");
      if (serverGoMemLimit !== goMemLimit) {
        problems.push(
          `nats-server runs with GOMEMLIMIT=${serverGoMemLimit ?? "(unset)"}, not the one asked for`,
        );
      }
    }
    const natsWatched: Watched[] = natsPid === undefined ? [] : [{ name: "nats-server", pid: natsPid }];
    const engineProcesses: Watched[] = [
      ...SERVICE_NAMES.flatMap((name) =>
        engine.services[name].flatMap((p) => (p.pid === undefined ? [] : [{ name, pid: p.pid }])),
      ),
      ...workers.flatMap((w) => (w.pid === undefined ? [] : [{ name: "worker", pid: w.pid }])),
      ...natsWatched,
    ];

    watcher = new EventWatcher(nc);
    const engineRuns = new EngineRuns({
      client: engine.client,
      nc,
      watcher,
      timeoutMs: config.workloadTimeoutMs,
      taskTimeoutSeconds: config.taskTimeoutSeconds,
    });
    const s = config.sizes;
    await engineRuns.prepare([s.w1Steps, s.w3Steps, s.w4Steps]);

    let floorProcesses: Watched[] = [];
    if (!config.skipFloor) {
      floor = new Floor(nc, config.workloadTimeoutMs);
      await floor.start();
      progress(`starting ${config.workerProcesses} floor worker process(es)`);
      await spawnWorkers("floor-worker.js", "floor-worker", "floor worker started", floorWorkers);
      for (const w of floorWorkers) if (w.pid !== undefined) pidNames.set(w.pid, "floor-worker");
      floorProcesses = [
        ...floorWorkers.flatMap((w) => (w.pid === undefined ? [] : [{ name: "worker", pid: w.pid }])),
        ...natsWatched,
      ];
    }

    progress(`warming up: ${s.warmUpExecutions} chains and a small Map on each side`);
    await engineRuns.chains(s.warmUpExecutions, s.w1Steps);
    await engineRuns.fanOut(10);
    await engineRuns.generatedFanOut(10);
    if (floor) {
      await floor.chains(s.warmUpExecutions, s.w1Steps);
      await floor.fanOut(10);
    }

    const cores = cpus().length;
    const measure = async (
      processes: Watched[],
      run: () => Promise<RunFigures>,
      countBench: boolean,
    ): Promise<MeasuredRun> => {
      const monitorUrl = engine.nats.monitorUrl;
      if (!(await waitQuiet(monitorUrl, durable))) progress("  (consumers still busy after 60 s)");
      const sampler = await startSampler(monitorUrl, processes, durable, config.sampleIntervalMs);
      let figures: RunFigures;
      try {
        figures = await run();
      } catch (err) {
        await sampler.stop(0);
        throw err;
      }
      const resources = await sampler.stop(figures.steps);
      // The bench process is the floor's driver, but for the engine only an observer.
      const cpuSeconds = Object.entries(resources.processes)
        .filter(([name]) => countBench || name !== "bench")
        .reduce((sum, [, usage]) => sum + usage.cpuSeconds, 0);
      const cpuMsPerStep = figures.steps > 0 ? (cpuSeconds * 1000) / figures.steps : 0;
      return {
        ...figures,
        resources,
        cpuMsPerStep,
        cpuBoundStepsPerSecond: cpuMsPerStep > 0 ? (cores * 1000) / cpuMsPerStep : 0,
      };
    };

    for (const plan of plans(config)) {
      const floorRun =
        floor && !plan.engineOnly
          ? await measure(floorProcesses, () => plan.run(floor as Floor), true)
          : undefined;
      const engineRun = await measure(engineProcesses, () => plan.run(engineRuns), false);
      const targets = checkTargets(plan.workload, plan.size, engineRun, floorRun, workloads);
      if (plan.workload === "W4") targets.push(checkMemory(engineRun, SERVICE_NAMES));
      workloads.push({
        id: plan.id,
        workload: plan.workload,
        title: plan.title,
        engine: engineRun,
        ...(floorRun ? { floor: floorRun } : {}),
        targets,
      });
      progress(describe(plan.id, engineRun, floorRun));
      const unfinished = engineRun.unfinished + (floorRun?.unfinished ?? 0);
      if (unfinished > 0) {
        // The engine is still busy with them: whatever ran next would measure that, not itself.
        problems.push(
          `${plan.id}: ${unfinished} executions did not end within ${config.workloadTimeoutMs / 1000} s; the workloads after it were skipped`,
        );
        break;
      }
    }
    if (engineRuns.firstProblem) problems.push(`engine: ${engineRuns.firstProblem}`);
    if (floor?.firstProblem) problems.push(`floor: ${floor.firstProblem}`);
    if (watcher.undecodable > 0) problems.push(`${watcher.undecodable} event batches did not decode`);
  };
  try {
    await Promise.race([work(), aborted]);
    completed = true;
  } finally {
    progress("stopping");
    watcher?.close();
    await Promise.all([...workers, ...floorWorkers].map((w) => w.stop()));
    await floor?.stop().catch(() => undefined);
    await nc?.close();
    await engine.stop();
    // The logs of the processes are kept only when something went wrong.
    if (completed && problems.length === 0) rmSync(engine.logDir, { recursive: true, force: true });
    else progress(`logs of every process: ${engine.logDir}`);
  }

  const profiles: ProfileSummary[] = config.profile ? summariseProfiles(profileDir, pidNames) : [];
  const machine = machineInfo(natsVersion, source);
  machine.loadAverageBefore = loadBefore;
  const result: BenchResult = {
    formatVersion: 1,
    startedAt: startedAt.toISOString(),
    durationS: (nowMs() - started) / 1000,
    machine,
    settings: {
      scale: config.scale,
      workerProcesses: config.workerProcesses,
      workerConcurrency: config.workerConcurrency,
      profile: config.profile,
      floor: !config.skipFloor,
      ...(config.serviceHeapMb === undefined ? {} : { serviceHeapMb: config.serviceHeapMb }),
      ...(serverGoMemLimit === undefined ? {} : { serverGoMemLimit }),
    },
    workloads,
    profiles,
    problems,
  };
  const jsonFile = join(config.outDir, `${stamp}.json`);
  writeFileSync(jsonFile, `${JSON.stringify(result, null, 2)}\n`);
  return { result, jsonFile };
}

function describe(id: string, engine: MeasuredRun, floor: MeasuredRun | undefined): string {
  const rate = (r: RunFigures) => `${Math.round(r.stepsPerSecond)} steps/s`;
  const ok = `${engine.succeeded}/${engine.executions} ok`;
  return `${id}: engine ${rate(engine)}, ${(engine.wallMs / 1000).toFixed(2)} s, ${ok}${
    floor ? `; floor ${rate(floor)}, ${(floor.wallMs / 1000).toFixed(2)} s` : ""
  }`;
}
