/**
 * The benchmark's settings, from command-line flags first, then environment variables, then
 * defaults. `loadBenchConfig` is pure and reports every bad value at once.
 */
import { resolve } from "node:path";
import { parseArgs } from "node:util";

/** The workloads, in the order they run. */
// The fan-out last: it is the one most likely to leave work behind if it times out.
export const WORKLOAD_IDS = ["W3", "W1", "W4", "W2", "W5"] as const;
export type WorkloadId = (typeof WORKLOAD_IDS)[number];

/** Sizes of every workload, after scaling. */
export interface WorkloadSizes {
  /** W1: executions of a chain of `w1Steps` Task states, each size started at once. */
  w1Executions: number[];
  w1Steps: number;
  /** W2: items of one Map (no concurrency cap), one execution per size. */
  w2Items: number[];
  /** W5: items of one Map whose items the workflow makes itself (engine only, no floor). */
  w5Items: number;
  /** W3: sequential executions of a chain of `w3Steps` Task states, one at a time. */
  w3Repetitions: number;
  w3Steps: number;
  /** W4: executions of a chain of `w4Steps` Task states, started at once. */
  w4Executions: number;
  w4Steps: number;
  /** Executions of each kind run (and thrown away) before measuring, so the JIT is warm. */
  warmUpExecutions: number;
}

/** Everything a run needs to know. */
export interface BenchConfig {
  /** Multiplier applied to every size (1 = the sizes of the issue). */
  scale: number;
  /** Which workloads to run. */
  workloads: WorkloadId[];
  sizes: WorkloadSizes;
  /** Worker processes, for the engine and (as many again) for the floor. */
  workerProcesses: number;
  /** Tasks a worker process handles at once. */
  workerConcurrency: number;
  /** Skip the raw JetStream floor. */
  skipFloor: boolean;
  /** Start the services with `--cpu-prof` and summarise the profiles. */
  profile: boolean;
  /** Directory the JSON results (and profiles) go to. */
  outDir: string;
  /** Interval of RSS and consumer backlog samples, in milliseconds. */
  sampleIntervalMs: number;
  /** Bound on one workload, in milliseconds. */
  workloadTimeoutMs: number;
  /** TimeoutSeconds given to every Task of the chain workloads (0: none), to measure timers. */
  taskTimeoutSeconds: number;
  /**
   * The services' V8 old-space limit in MB (`--max-old-space-size`), as the Kubernetes manifests
   * give it; undefined: Node's default, sized from the machine's memory.
   */
  serviceHeapMb: number | undefined;
  /**
   * nats-server's soft memory limit in MiB (`GOMEMLIMIT`), as the manifests give it under the
   * container's limit; undefined: none, Go's heap grows to twice its live data.
   */
  serverMemoryMib: number | undefined;
}

/** Thrown for bad flags or environment; `problems` has one line per bad value. */
export class BenchConfigError extends Error {
  override readonly name = "BenchConfigError";
  constructor(readonly problems: readonly string[]) {
    super(`invalid benchmark settings:\n  ${problems.join("\n  ")}`);
  }
}

/** What `--help` prints. */
export const USAGE = `usage: pnpm bench [options]

  --scale <f>               multiply every workload size by f (BENCH_SCALE; default 1)
  --only <W1,...,W5>        run only these workloads (BENCH_ONLY; default all)
  --workers <n>             worker processes for the engine, and as many for the floor
                            (BENCH_WORKERS; default 1)
  --worker-concurrency <n>  tasks one worker process runs at once (BENCH_WORKER_CONCURRENCY; default 256)
  --no-floor                skip the raw JetStream floor
  --profile                 profile the services and workers with V8's CPU profiler (as node --cpu-prof)
                            and summarise where their time went
  --out <dir>               where results go (BENCH_OUT; default bench/results)
  --timeout <s>             bound on one workload; executions still running then count as failed
                            and the later workloads are skipped (BENCH_TIMEOUT_S; default 180)
  --task-timeout <s>        give every Task of the chains this TimeoutSeconds, so each step also
                            arms a timeout timer (BENCH_TASK_TIMEOUT_S; default 0: none)
  --service-heap <mb>       start the services with --max-old-space-size=<mb>, as deploy/k8s does (384)
                            (BENCH_SERVICE_HEAP_MB; default: Node's own limit, from the machine's memory)
  --server-memory <mib>     start nats-server with GOMEMLIMIT=<mib>MiB, as deploy/k8s does (90% of its
                            limit) (BENCH_SERVER_MEMORY_MIB; default: none)
  --help                    this text
`;

const BASE: WorkloadSizes = {
  w1Executions: [200, 1000],
  w1Steps: 10,
  w2Items: [1000, 10_000],
  w5Items: 100_000,
  w3Repetitions: 20,
  w3Steps: 10,
  w4Executions: 10_000,
  w4Steps: 3,
  warmUpExecutions: 20,
};

/** Scales a size, keeping at least `min` so a tiny run still exercises every path. */
function scaled(size: number, scale: number, min: number): number {
  return Math.max(min, Math.round(size * scale));
}

/** The sizes of the issue multiplied by `scale`; the chain lengths never change. */
export function scaleSizes(scale: number): WorkloadSizes {
  return {
    ...BASE,
    w1Executions: BASE.w1Executions.map((n) => scaled(n, scale, 2)),
    w2Items: BASE.w2Items.map((n) => scaled(n, scale, 3)),
    w5Items: scaled(BASE.w5Items, scale, 3),
    w3Repetitions: scaled(BASE.w3Repetitions, scale, 2),
    w4Executions: scaled(BASE.w4Executions, scale, 3),
    warmUpExecutions: scaled(BASE.warmUpExecutions, scale, 2),
  };
}

/**
 * Reads the settings from `argv` (without the node and script paths) and `env`. Returns
 * `"help"` when `--help` was given.
 * @throws BenchConfigError listing every bad flag or variable
 */
export function loadBenchConfig(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  cwd: string,
): BenchConfig | "help" {
  const problems: string[] = [];
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      // `pnpm bench -- --scale 0.1` hands the "--" on to the script.
      args: argv[0] === "--" ? argv.slice(1) : [...argv],
      options: {
        scale: { type: "string" },
        only: { type: "string" },
        workers: { type: "string" },
        "worker-concurrency": { type: "string" },
        "no-floor": { type: "boolean" },
        profile: { type: "boolean" },
        out: { type: "string" },
        timeout: { type: "string" },
        "task-timeout": { type: "string" },
        "service-heap": { type: "string" },
        "server-memory": { type: "string" },
        help: { type: "boolean" },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new BenchConfigError([err instanceof Error ? err.message : String(err)]);
  }
  if (values.help === true) return "help";
  const pick = (flag: string, variable: string): [string, string | undefined] => {
    const fromFlag = values[flag];
    if (typeof fromFlag === "string") return [`--${flag}`, fromFlag];
    const fromEnv = env[variable];
    return [variable, fromEnv === "" ? undefined : fromEnv];
  };
  const number = (flag: string, variable: string, fallback: number, integer: boolean, min: number) => {
    const [name, raw] = pick(flag, variable);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (
      raw.trim() === "" ||
      !Number.isFinite(value) ||
      value < min ||
      (integer && !Number.isInteger(value))
    ) {
      problems.push(
        `${name} must be ${integer ? "an integer" : "a number"} of at least ${min}, got "${raw}"`,
      );
      return fallback;
    }
    return value;
  };

  const scale = number("scale", "BENCH_SCALE", 1, false, 0.0001);
  const workerProcesses = number("workers", "BENCH_WORKERS", 1, true, 1);
  const workerConcurrency = number("worker-concurrency", "BENCH_WORKER_CONCURRENCY", 256, true, 1);
  const [onlyName, onlyRaw] = pick("only", "BENCH_ONLY");
  let workloads: WorkloadId[] = [...WORKLOAD_IDS];
  if (onlyRaw !== undefined) {
    const wanted = onlyRaw
      .split(",")
      .map((s) => s.trim().toUpperCase())
      .filter((s) => s !== "");
    const unknown = wanted.filter((w) => !(WORKLOAD_IDS as readonly string[]).includes(w));
    if (unknown.length > 0 || wanted.length === 0) {
      problems.push(`${onlyName} must list workloads among ${WORKLOAD_IDS.join(", ")}, got "${onlyRaw}"`);
    } else {
      workloads = WORKLOAD_IDS.filter((w) => wanted.includes(w));
    }
  }
  const timeoutS = number("timeout", "BENCH_TIMEOUT_S", 180, false, 1);
  const taskTimeoutSeconds = number("task-timeout", "BENCH_TASK_TIMEOUT_S", 0, true, 0);
  const serviceHeapMb =
    pick("service-heap", "BENCH_SERVICE_HEAP_MB")[1] === undefined
      ? undefined
      : number("service-heap", "BENCH_SERVICE_HEAP_MB", 0, true, 64);
  const serverMemoryMib =
    pick("server-memory", "BENCH_SERVER_MEMORY_MIB")[1] === undefined
      ? undefined
      : number("server-memory", "BENCH_SERVER_MEMORY_MIB", 0, true, 64);
  const [, outRaw] = pick("out", "BENCH_OUT");
  if (problems.length > 0) throw new BenchConfigError(problems);
  return {
    scale,
    workloads,
    sizes: scaleSizes(scale),
    workerProcesses,
    workerConcurrency,
    skipFloor: values["no-floor"] === true,
    profile: values.profile === true,
    outDir: resolve(cwd, outRaw ?? resolve(__dirname, "../results")),
    sampleIntervalMs: 250,
    workloadTimeoutMs: timeoutS * 1000,
    taskTimeoutSeconds,
    serviceHeapMb,
    serverMemoryMib,
  };
}
