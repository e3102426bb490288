/**
 * Watches the processes of a run while one workload runs: CPU seconds each used, the peak of
 * each one's resident memory, the machine's busy cores (ours and everyone else's), and the
 * highest backlog of every JetStream consumer, read from the server's monitoring endpoint (so
 * that measuring costs the engine nothing).
 */
import { cpus } from "node:os";
import { busyCores, cpuSeconds, resetPeakRss, rss, systemCpu } from "./proc";
import type { SystemCpu } from "./proc";

/** A process to watch. */
export interface Watched {
  /** Its name in the report: a service, "worker", "nats-server", "bench". */
  name: string;
  pid: number;
}

/** What one process used during a workload. */
export interface ProcessUsage {
  cpuSeconds: number;
  /** CPU seconds per 1,000 steps of the workload. */
  cpuSecondsPer1000Steps: number;
  /** Peak resident memory during the workload, in MB (10^6 bytes). */
  peakRssMb: number;
}

/** The highest backlog seen on one consumer. */
export interface Backlog {
  /** Messages not yet delivered (`num_pending`). */
  maxPending: number;
  /** Messages delivered and not yet acknowledged (`num_ack_pending`). */
  maxAckPending: number;
  /** The highest sum of both in one sample. */
  maxBacklog: number;
}

/** The resources of a workload. */
export interface Resources {
  /** Wall time the sampler ran, in milliseconds. */
  wallMs: number;
  /** Average busy cores of the whole machine. */
  machineBusyCores: number;
  /** Average busy cores of processes not in the run (other users of the machine). */
  otherBusyCores: number;
  /** By process name; several processes of one name (workers) are summed, peaks added. */
  processes: Record<string, ProcessUsage>;
  /** By `<stream>/<consumer>`. */
  backlog: Record<string, Backlog>;
  /**
   * Messages (and bytes) the server received from clients and sent to them per step: every
   * publish, ack, pull request, request and reply counts. Everything on the server is counted.
   */
  natsPerStep?: { msgsIn: number; msgsOut: number; bytesIn: number; bytesOut: number };
}

interface Varz {
  in_msgs: number;
  out_msgs: number;
  in_bytes: number;
  out_bytes: number;
}

async function readVarz(monitorUrl: string): Promise<Varz | undefined> {
  try {
    return (await (await fetch(`${monitorUrl}/varz`)).json()) as Varz;
  } catch {
    return undefined;
  }
}

/** One consumer as the monitoring endpoint describes it. */
export interface JszConsumer {
  stream_name: string;
  name: string;
  num_pending: number;
  num_ack_pending: number;
}

interface Jsz {
  account_details?: { stream_detail?: { consumer_detail?: JszConsumer[] }[] }[];
}

/** Reads every consumer's backlog from the monitoring endpoint of nats-server. */
export async function readConsumers(monitorUrl: string): Promise<JszConsumer[]> {
  const response = await fetch(`${monitorUrl}/jsz?accounts=true&streams=true&consumers=true&config=false`);
  const jsz = (await response.json()) as Jsz;
  return (jsz.account_details ?? []).flatMap((a) =>
    (a.stream_detail ?? []).flatMap((s) => s.consumer_detail ?? []),
  );
}

/** A sampler started by {@link startSampler}. */
export interface Sampler {
  /** Stops sampling and returns the usage; `steps` scales the per-1,000-steps figures. */
  stop(steps: number): Promise<Resources>;
}

/**
 * Starts watching `processes` (and this process, as "bench") and the durable consumers named in
 * `consumers` on the server at `monitorUrl`, sampling every `intervalMs`.
 */
export async function startSampler(
  monitorUrl: string,
  processes: readonly Watched[],
  consumers: ReadonlySet<string>,
  intervalMs: number,
): Promise<Sampler> {
  // Read before anything else starts, so that the counts cover the workload exactly.
  const varzBefore = await readVarz(monitorUrl);
  const watched = [...processes, { name: "bench", pid: process.pid }];
  const cores = cpus().length;
  const startedAt = performance.now();
  const cpuBefore = new Map(watched.map((p) => [p.pid, cpuSeconds(p.pid)]));
  const machineBefore: SystemCpu | undefined = systemCpu();
  const peakReset = new Map(watched.map((p) => [p.pid, resetPeakRss(p.pid)]));
  const sampledPeak = new Map<number, number>();
  const backlog: Record<string, Backlog> = {};
  let sampling: Promise<void> = Promise.resolve();

  const sample = async (): Promise<void> => {
    for (const p of watched) {
      const now = rss(p.pid);
      if (now) sampledPeak.set(p.pid, Math.max(sampledPeak.get(p.pid) ?? 0, now.rssBytes));
    }
    try {
      for (const c of await readConsumers(monitorUrl)) {
        if (!consumers.has(c.name)) continue;
        const key = `${c.stream_name}/${c.name}`;
        const b = (backlog[key] ??= { maxPending: 0, maxAckPending: 0, maxBacklog: 0 });
        b.maxPending = Math.max(b.maxPending, c.num_pending);
        b.maxAckPending = Math.max(b.maxAckPending, c.num_ack_pending);
        b.maxBacklog = Math.max(b.maxBacklog, c.num_pending + c.num_ack_pending);
      }
    } catch {
      // A busy server may answer late or not at all; the next sample tries again.
    }
  };
  const timer = setInterval(() => {
    sampling = sampling.then(sample);
  }, intervalMs);
  sampling = sample();

  return {
    async stop(steps) {
      clearInterval(timer);
      await sampling;
      await sample();
      const wallMs = performance.now() - startedAt;
      const machineAfter = systemCpu();
      const [v0, v1] = [varzBefore, await readVarz(monitorUrl)];
      const natsPerStep =
        v0 && v1 && steps > 0
          ? {
              msgsIn: (v1.in_msgs - v0.in_msgs) / steps,
              msgsOut: (v1.out_msgs - v0.out_msgs) / steps,
              bytesIn: (v1.in_bytes - v0.in_bytes) / steps,
              bytesOut: (v1.out_bytes - v0.out_bytes) / steps,
            }
          : undefined;
      const processesUsage: Record<string, ProcessUsage> = {};
      let oursSeconds = 0;
      for (const p of watched) {
        const before = cpuBefore.get(p.pid);
        const after = cpuSeconds(p.pid);
        const used = before !== undefined && after !== undefined ? after - before : 0;
        oursSeconds += used;
        const status = rss(p.pid);
        const peak = Math.max(
          sampledPeak.get(p.pid) ?? 0,
          peakReset.get(p.pid) === true ? (status?.peakBytes ?? 0) : 0,
        );
        const usage = (processesUsage[p.name] ??= {
          cpuSeconds: 0,
          cpuSecondsPer1000Steps: 0,
          peakRssMb: 0,
        });
        usage.cpuSeconds += used;
        usage.peakRssMb += peak / 1e6;
      }
      for (const usage of Object.values(processesUsage)) {
        usage.cpuSecondsPer1000Steps = steps > 0 ? (usage.cpuSeconds * 1000) / steps : 0;
      }
      const machineBusyCores =
        machineBefore && machineAfter ? busyCores(machineBefore, machineAfter, cores) : 0;
      const oursCores = wallMs > 0 ? oursSeconds / (wallMs / 1000) : 0;
      return {
        wallMs,
        machineBusyCores,
        otherBusyCores: Math.max(0, machineBusyCores - oursCores),
        processes: processesUsage,
        backlog,
        ...(natsPerStep ? { natsPerStep } : {}),
      };
    },
  };
}
