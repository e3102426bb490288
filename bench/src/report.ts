/**
 * The benchmark's results: their shape (also the JSON file's), the targets of the issue checked
 * against them, and the tables printed at the end of a run.
 */
import type { WorkloadId } from "./config";
import type { RunFigures } from "./figures";
import type { ProfileSummary } from "./profile";
import type { Resources } from "./sampler";

/** Figures of one side (engine or floor) of a workload, with what the processes used. */
export type MeasuredRun = RunFigures & {
  resources: Resources;
  /**
   * CPU milliseconds per step of every process of the side: the services, workers and
   * nats-server for the engine; the driver (this process), workers and nats-server for the floor.
   */
  cpuMsPerStep: number;
  /**
   * Steps per second the side could run if it had every core of the machine to itself and were
   * limited by CPU alone: cores × 1000 / cpuMsPerStep. Unlike steps/s, it hardly depends on what
   * else runs on the machine.
   */
  cpuBoundStepsPerSecond: number;
};

/** One target of the issue, checked. */
export interface TargetCheck {
  target: string;
  value: string;
  met: boolean;
  /** How far off a missed target is, in words. */
  shortBy?: string;
}

/** One workload at one size. */
export interface WorkloadResult {
  /** E.g. "W1-200". */
  id: string;
  workload: WorkloadId;
  title: string;
  engine: MeasuredRun;
  floor?: MeasuredRun;
  targets: TargetCheck[];
}

/** The machine a run measured, and how busy it was. */
export interface MachineInfo {
  cores: number;
  cpuModel: string;
  memoryMb: number;
  os: string;
  node: string;
  natsServer: string;
  /** The commit measured, and the files of packages/ and services/ changed from it (a shared tree). */
  source: { commit: string; changedFiles: string[] };
  loadAverageBefore: [number, number, number];
  loadAverageAfter: [number, number, number];
}

/** Everything one run writes to its JSON file. */
export interface BenchResult {
  formatVersion: 1;
  startedAt: string;
  durationS: number;
  machine: MachineInfo;
  settings: {
    scale: number;
    workerProcesses: number;
    workerConcurrency: number;
    profile: boolean;
    floor: boolean;
    /** The services' `--max-old-space-size` in MB; absent: Node's default. */
    serviceHeapMb?: number;
    /** nats-server's `GOMEMLIMIT` as read back from its environment; absent: none was asked for. */
    serverGoMemLimit?: string;
  };
  workloads: WorkloadResult[];
  profiles: ProfileSummary[];
  /** The first unexpected outcome of the engine or the floor, if any. */
  problems: string[];
}

const MIB = 1024 * 1024;

function fmt(value: number, digits = 0): string {
  return value.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function check(target: string, value: string, met: boolean, shortBy: string): TargetCheck {
  return met ? { target, value, met } : { target, value, met, shortBy };
}

/** A ratio to the floor: engine / floor, when the floor ran and measured something. */
function ratio(engine: number | undefined, floor: number | undefined): number | undefined {
  return engine !== undefined && floor !== undefined && floor > 0 ? engine / floor : undefined;
}

/** A target on a ratio to the floor: at least (`atLeast`) or at most the `limit`. */
function ratioCheck(
  what: string,
  value: number | undefined,
  limit: number,
  atLeast: boolean,
  unit: (r: number) => string,
): TargetCheck[] {
  if (value === undefined) return [];
  const met = atLeast ? value >= limit : value <= limit;
  const target = `${what} ${atLeast ? "≥" : "≤"} ${unit(limit)}`;
  const off = atLeast ? `${fmt((limit - value) * 100)} points short` : `${fmt(value / limit, 2)}× the limit`;
  return [check(target, unit(value), met, off)];
}

const share = (r: number) => `${fmt(r * 100)}% of the floor`;
const times = (r: number) => `${fmt(r, 2)}× the floor`;

/**
 * The targets of the engine-core issue (issue 11) that apply to a workload result: ratios to the
 * floor measured in the same run, because absolute speeds on shared machines move by 2× from day
 * to day. `earlier`: the workloads measured before this one (W5 is judged against W2 10,000).
 */
export function checkTargets(
  workload: WorkloadId,
  size: number,
  engine: MeasuredRun,
  floor?: MeasuredRun,
  earlier: readonly WorkloadResult[] = [],
): TargetCheck[] {
  const checks: TargetCheck[] = [];
  if (workload === "W1") {
    checks.push(
      ...ratioCheck("steps/s", ratio(engine.stepsPerSecond, floor?.stepsPerSecond), 0.75, true, share),
    );
    if (size >= 1000) {
      checks.push(
        ...ratioCheck("CPU per step", ratio(engine.cpuMsPerStep, floor?.cpuMsPerStep), 1.5, false, times),
      );
    }
    const msgs = engine.resources.natsPerStep?.msgsIn;
    if (msgs !== undefined) {
      checks.push(
        check("≤ 8 NATS messages in per step", fmt(msgs, 1), msgs <= 8, `${fmt(msgs - 8, 1)} over`),
      );
    }
  }
  if (workload === "W3") {
    checks.push(
      ...ratioCheck(
        "step p50",
        ratio(engine.stepLatencyMs?.p50, floor?.stepLatencyMs?.p50),
        1.5,
        false,
        times,
      ),
    );
  }
  if (workload === "W2") {
    if (engine.unfinished > 0) {
      checks.push(
        check("wall ≤ 1.5× the floor", `not done after ${fmt(engine.wallMs / 1000)} s`, false, "unfinished"),
      );
    } else {
      checks.push(...ratioCheck("wall", ratio(engine.wallMs, floor?.wallMs), 1.5, false, times));
    }
  }
  if (workload === "W2" || workload === "W5") {
    for (const [what, bytes] of [
      ["snapshot", engine.snapshotBytesMax],
      ["event batch", engine.batchBytesMax],
    ] as const) {
      if (bytes === undefined || size < 10_000) continue;
      checks.push(
        check(
          `largest ${what} < 1 MiB`,
          `${fmt(bytes / 1024)} KiB`,
          bytes < MIB,
          `${fmt((bytes - MIB) / 1024)} KiB over`,
        ),
      );
    }
  }
  if (workload === "W5") {
    const w2 = earlier.find((w) => w.workload === "W2" && w.id === "W2-10000");
    if (w2 && engine.unfinished === 0 && w2.engine.wallMs > 0) {
      const r = engine.wallMs / w2.engine.wallMs;
      checks.push(
        check(
          "wall ≤ 15× W2 10,000's",
          `${fmt(r, 1)}× (${fmt(engine.wallMs / 1000, 1)} s)`,
          r <= 15,
          `${fmt(r / 15, 2)}× the limit`,
        ),
      );
    }
    checks.push(
      checkMemory(
        engine,
        Object.keys(engine.resources.processes).filter((n) => n !== "bench"),
        300,
        "every process",
      ),
    );
  }
  return checks;
}

/** A memory target, checked on the peaks of `processes` (W4: each service under 150 MB). */
export function checkMemory(
  engine: MeasuredRun,
  processes: readonly string[],
  limitMb = 150,
  who = "each service",
): TargetCheck {
  const peaks = processes.map((s) => [s, engine.resources.processes[s]?.peakRssMb ?? 0] as const);
  const [worst, worstMb] = peaks.reduce((a, b) => (b[1] > a[1] ? b : a), ["", 0] as readonly [
    string,
    number,
  ]);
  return check(
    `${who} < ${limitMb} MB RSS`,
    `highest: ${worst} ${fmt(worstMb)} MB`,
    worstMb < limitMb,
    `${worst} ${fmt(worstMb - limitMb)} MB over`,
  );
}

interface Row {
  figure: string;
  engine: number | undefined;
  floor: number | undefined;
  digits: number;
}

function rowsOf(w: WorkloadResult): Row[] {
  const e = w.engine;
  const f = w.floor;
  const row = (figure: string, pick: (r: RunFigures) => number | undefined, digits = 0): Row => ({
    figure,
    engine: pick(e),
    floor: f ? pick(f) : undefined,
    digits,
  });
  const cpuRow = (figure: string, pick: (r: MeasuredRun) => number, digits = 0): Row => ({
    figure,
    engine: pick(e),
    floor: f ? pick(f) : undefined,
    digits,
  });
  switch (w.workload) {
    case "W1":
    case "W4":
      return [
        row("steps/s", (r) => r.stepsPerSecond),
        cpuRow("CPU ms/step", (r) => r.cpuMsPerStep, 3),
        cpuRow("CPU-bound steps/s", (r) => r.cpuBoundStepsPerSecond),
        row("executions/s", (r) => r.executionsPerSecond),
        row("latency p50 ms", (r) => r.latencyMs.p50, 1),
        row("latency p99 ms", (r) => r.latencyMs.p99, 1),
      ];
    case "W2":
    case "W5":
      return [
        row("wall s", (r) => r.wallMs / 1000, 2),
        row("steps/s", (r) => r.stepsPerSecond),
        ...(e.snapshotBytesMax !== undefined
          ? [row("snapshot max KiB", (r) => (r.snapshotBytesMax ?? 0) / 1024, 1)]
          : []),
        ...(e.batchBytesMax !== undefined
          ? [row("event batch max KiB", (r) => (r.batchBytesMax ?? 0) / 1024, 1)]
          : []),
      ];
    case "W3":
      return [
        row("step p50 ms", (r) => r.stepLatencyMs?.p50, 2),
        row("step p99 ms", (r) => r.stepLatencyMs?.p99, 2),
        row("execution p50 ms", (r) => r.latencyMs.p50, 1),
      ];
  }
}

function table(header: string[], rows: string[][], right: boolean[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (right[i] ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

/** The main table: every figure of every workload, engine next to floor, ratio, targets. */
export function renderFigures(result: BenchResult): string {
  const rows: string[][] = [];
  for (const w of result.workloads) {
    const ok = `${w.engine.succeeded}/${w.engine.executions} ok`;
    rowsOf(w).forEach((r, i) => {
      const ratio =
        r.engine !== undefined && r.floor !== undefined && r.floor > 0 ? fmt(r.engine / r.floor, 2) : "";
      rows.push([
        i === 0 ? w.title : i === 1 ? `  (${ok})` : "",
        r.figure,
        r.engine === undefined ? "" : fmt(r.engine, r.digits),
        r.floor === undefined ? "" : fmt(r.floor, r.digits),
        ratio,
      ]);
    });
  }
  return table(["workload", "figure", "engine", "floor", "engine/floor"], rows, [
    false,
    false,
    true,
    true,
    true,
  ]);
}

/** Per workload: CPU seconds per 1,000 steps and peak RSS of each process; consumer backlogs. */
export function renderResources(result: BenchResult): string {
  const names = [...new Set(result.workloads.flatMap((w) => Object.keys(w.engine.resources.processes)))];
  const header = [
    "workload",
    "side",
    "busy cores (other)",
    "nats msgs/step in·out",
    ...names.map((n) => `${n} cpu/1k · MB`),
  ];
  const rows: string[][] = [];
  for (const w of result.workloads) {
    for (const [side, run] of [
      ["engine", w.engine],
      ["floor", w.floor],
    ] as const) {
      if (!run) continue;
      const r = run.resources;
      rows.push([
        side === "engine" ? w.id : "",
        side,
        `${fmt(r.machineBusyCores, 2)} (${fmt(r.otherBusyCores, 2)})`,
        r.natsPerStep ? `${fmt(r.natsPerStep.msgsIn, 1)} · ${fmt(r.natsPerStep.msgsOut, 1)}` : "",
        ...names.map((n) => {
          const p = r.processes[n];
          return p ? `${fmt(p.cpuSecondsPer1000Steps, 3)} · ${fmt(p.peakRssMb)}` : "";
        }),
      ]);
    }
  }
  const backlogRows: string[][] = [];
  for (const w of result.workloads) {
    const entries = Object.entries(w.engine.resources.backlog)
      .filter(([, b]) => b.maxBacklog > 0)
      .sort((a, b) => b[1].maxBacklog - a[1].maxBacklog);
    backlogRows.push([
      w.id,
      entries
        .map(([k, b]) => `${k.split("/")[1] ?? k} ${fmt(b.maxPending)}+${fmt(b.maxAckPending)}`)
        .join(", "),
    ]);
  }
  return [
    table(header, rows, [false, false, true, true, ...names.map(() => true)]),
    "",
    "highest consumer backlog seen (engine): consumer pending+ack-pending",
    table(["workload", "consumers"], backlogRows, [false, false]),
  ].join("\n");
}

/** The targets of the issue, met or missed. */
export function renderTargets(result: BenchResult): string {
  const rows = result.workloads.flatMap((w) =>
    w.targets.map((t) => [w.id, t.target, t.value, t.met ? "met" : `MISSED (${t.shortBy ?? ""})`]),
  );
  return rows.length === 0
    ? "no targets apply at this scale"
    : table(["workload", "target", "value", ""], rows, [false, false, true, false]);
}

/** The CPU profile summaries, top packages and functions per process. */
export function renderProfiles(profiles: readonly ProfileSummary[]): string {
  return profiles
    .map((p) =>
      [
        `${p.process}: ${fmt(p.busyMs)} ms busy (${p.file})`,
        ...p.byPackage.slice(0, 8).map((l) => `  ${fmt(l.percent, 1).padStart(5)}%  ${l.name}`),
        "  top functions (self time):",
        ...p.topFunctions
          .slice(0, 10)
          .map((l) => `  ${fmt(l.percent, 1).padStart(5)}%  ${l.name}${l.via ? `  ← ${l.via}` : ""}`),
      ].join("\n"),
    )
    .join("\n\n");
}

/** The whole report printed at the end of a run. */
export function renderReport(result: BenchResult, jsonFile: string): string {
  const m = result.machine;
  const load = (l: number[]) => l.map((x) => fmt(x, 2)).join(" ");
  const parts = [
    `jetflow benchmark, ${result.startedAt}, scale ${result.settings.scale}, ${fmt(result.durationS)} s`,
    `machine: ${m.cores} cores (${m.cpuModel}), ${fmt(m.memoryMb)} MB, ${m.os}; node ${m.node}; nats-server ${m.natsServer}`,
    `load average before: ${load(m.loadAverageBefore)}; after: ${load(m.loadAverageAfter)}`,
    `source: ${m.source.commit.slice(0, 12)}${
      m.source.changedFiles.length > 0
        ? ` with ${m.source.changedFiles.length} uncommitted change(s) under packages/ and services/`
        : ""
    }`,
    `workers: ${result.settings.workerProcesses} process(es) × ${result.settings.workerConcurrency} concurrent tasks (engine and floor alike)`,
    `services' heap: ${
      result.settings.serviceHeapMb === undefined
        ? "Node's default limit (from the machine's memory)"
        : `--max-old-space-size=${result.settings.serviceHeapMb} (as deploy/k8s)`
    }`,
    `nats-server's memory: ${
      result.settings.serverGoMemLimit === undefined
        ? "no GOMEMLIMIT (Go's heap grows to twice its live data)"
        : `GOMEMLIMIT=${result.settings.serverGoMemLimit} (as deploy/k8s)`
    }`,
    "",
    renderFigures(result),
    "",
    renderResources(result),
    "",
    renderTargets(result),
  ];
  if (result.problems.length > 0) parts.push("", "problems:", ...result.problems.map((p) => `  ${p}`));
  if (result.profiles.length > 0) parts.push("", "CPU profiles:", renderProfiles(result.profiles));
  parts.push("", `figures written to ${jsonFile}`);
  return parts.join("\n");
}
