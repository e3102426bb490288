/**
 * Reads the `.cpuprofile` files `node --cpu-prof` writes and tells where the time went: self time
 * by function and by package (a dependency under node_modules, Node's internals, our own code,
 * the garbage collector).
 */
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** A line of a profile summary: what, and its share of the busy (non-idle) time. */
export interface ProfileLine {
  name: string;
  ms: number;
  percent: number;
  /** For a function: the caller that accounts for most of its self time. */
  via?: string;
}

/** Where one process spent its CPU time. */
export interface ProfileSummary {
  process: string;
  file: string;
  /** Sampled time that was not idle, in ms. */
  busyMs: number;
  byPackage: ProfileLine[];
  topFunctions: ProfileLine[];
}

/** The package a script belongs to: the dependency's name, `node:internal`, or the file path. */
function packageOf(url: string): string {
  if (url === "") return "(native)";
  if (url.startsWith("node:")) return "node:internal";
  const modules = url.lastIndexOf("node_modules/");
  if (modules >= 0) {
    const parts = url.slice(modules + "node_modules/".length).split("/");
    return parts[0]?.startsWith("@") ? `${parts[0]}/${parts[1] ?? ""}` : (parts[0] ?? url);
  }
  const ours = /\/(packages|services)\/([^/]+)\//.exec(url);
  return ours ? `jetflow:${ours[1]}/${ours[2]}` : url;
}

function shortUrl(url: string): string {
  const modules = url.lastIndexOf("node_modules/");
  if (modules >= 0) return url.slice(modules + "node_modules/".length);
  const ours = /\/((packages|services)\/.*)$/.exec(url);
  return ours?.[1] ?? url.replace(/^file:\/\//, "");
}

function top(
  totals: Map<string, number>,
  busyMs: number,
  count: number,
  callers?: Map<string, Map<string, number>>,
): ProfileLine[] {
  return [...totals.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([name, ms]) => {
      const line: ProfileLine = { name, ms: Math.round(ms), percent: busyMs > 0 ? (ms / busyMs) * 100 : 0 };
      const byCaller = callers?.get(name);
      if (byCaller) {
        const [via] = [...byCaller.entries()].sort((a, b) => b[1] - a[1])[0] ?? [];
        if (via !== undefined) line.via = via;
      }
      return line;
    });
}

function functionName(frame: CallFrame): string {
  return frame.functionName.startsWith("(")
    ? frame.functionName
    : `${frame.functionName || "(anonymous)"} ${shortUrl(frame.url)}:${frame.lineNumber + 1}`;
}

/** Summarises one profile file; `label` names the process in the summary. */
export function summariseProfile(file: string, label: string, count = 12): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const parentOf = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
  const byFunction = new Map<string, number>();
  const byPackage = new Map<string, number>();
  const callers = new Map<string, Map<string, number>>();
  let busyMs = 0;
  for (const [id, us] of selfUs) {
    const frame = byId.get(id)?.callFrame;
    if (!frame || frame.functionName === "(idle)") continue;
    const ms = us / 1000;
    busyMs += ms;
    const special = frame.functionName.startsWith("(");
    const fn = functionName(frame);
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + ms);
    const parent = byId.get(parentOf.get(id) ?? -1)?.callFrame;
    if (parent) {
      const byCaller = callers.get(fn) ?? new Map<string, number>();
      callers.set(fn, byCaller);
      const caller = functionName(parent);
      byCaller.set(caller, (byCaller.get(caller) ?? 0) + ms);
    }
    const pkg = special ? frame.functionName : packageOf(frame.url);
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + ms);
  }
  return {
    process: label,
    file,
    busyMs: Math.round(busyMs),
    byPackage: top(byPackage, busyMs, count),
    topFunctions: top(byFunction, busyMs, count, callers),
  };
}

/**
 * Summarises every profile in `dir`, naming each by the process that wrote it (`names` maps pids
 * to names; node puts the pid in the file name).
 */
export function summariseProfiles(dir: string, names: ReadonlyMap<number, string>): ProfileSummary[] {
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith(".cpuprofile"));
  } catch {
    return [];
  }
  return files.map((f) => {
    // CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile
    const pid = Number(f.split(".")[3]);
    return summariseProfile(join(dir, f), names.get(pid) ?? `pid ${pid}`);
  });
}
