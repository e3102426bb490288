/**
 * What Linux tells about processes and the machine through /proc: CPU time, resident memory and
 * its peak, whole-machine CPU use and load. Every reader returns undefined where /proc is missing
 * (another OS) or the process is gone, so a run still completes with fewer figures.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ: 100 on every Linux we run). */
const USER_HZ = 100;

function read(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

/** User + system CPU seconds used so far by process `pid` (all its threads). */
export function cpuSeconds(pid: number): number | undefined {
  const stat = read(`/proc/${pid}/stat`);
  if (stat === undefined) return undefined;
  // The command name (field 2) is in parentheses and may hold spaces: split after it.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after the name.
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return Number.isFinite(utime) && Number.isFinite(stime) ? (utime + stime) / USER_HZ : undefined;
}

/** Resident memory of `pid` now and its peak since start (or since `resetPeakRss`), in bytes. */
export function rss(pid: number): { rssBytes: number; peakBytes: number } | undefined {
  const status = read(`/proc/${pid}/status`);
  if (status === undefined) return undefined;
  const kib = (field: string): number | undefined => {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status);
    return match ? Number(match[1]) * 1024 : undefined;
  };
  const now = kib("VmRSS");
  if (now === undefined) return undefined;
  return { rssBytes: now, peakBytes: kib("VmHWM") ?? now };
}

/** Resets the peak RSS (VmHWM) of `pid`, so the next peak is that of the coming workload only. */
export function resetPeakRss(pid: number): boolean {
  try {
    // "5" resets the peak resident set size (Linux 4.0+, own processes).
    writeFileSync(`/proc/${pid}/clear_refs`, "5");
    return true;
  } catch {
    return false;
  }
}

/** Jiffies of the whole machine: busy (not idle, not waiting for I/O) and total. */
export interface SystemCpu {
  busy: number;
  total: number;
}

/** The machine's CPU counters from /proc/stat, summed over all cores. */
export function systemCpu(): SystemCpu | undefined {
  const line = read("/proc/stat")
    ?.split("\n")
    .find((l) => l.startsWith("cpu "));
  if (line === undefined) return undefined;
  const ticks = line.trim().split(/\s+/).slice(1, 9).map(Number);
  const total = ticks.reduce((a, b) => a + b, 0);
  const idle = (ticks[3] ?? 0) + (ticks[4] ?? 0);
  return { busy: total - idle, total };
}

/** Average busy cores between two /proc/stat readings on a machine with `cores` cores. */
export function busyCores(before: SystemCpu, after: SystemCpu, cores: number): number {
  const total = after.total - before.total;
  return total > 0 ? ((after.busy - before.busy) / total) * cores : 0;
}

/** The 1, 5 and 15 minute load averages. */
export function loadAverages(): [number, number, number] {
  const [a = 0, b = 0, c = 0] = loadavg();
  return [a, b, c];
}

/** The value of variable `name` in the environment process `pid` started with, if set. */
export function environmentValue(pid: number, name: string): string | undefined {
  const environ = read(`/proc/${pid}/environ`);
  const entry = environ?.split("\0").find((line) => line.startsWith(`${name}=`));
  return entry?.slice(name.length + 1);
}
