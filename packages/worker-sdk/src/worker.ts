import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import {
  DEFAULT_TASK_ACK_WAIT_MS,
  WorkerPresence,
  activityNameProblem,
  encode,
  ensureStreamExists,
  streamConfigs,
  subjects,
} from "@jetflow/contracts";
import { DEFAULT_PULL_EXPIRES_MS } from "@jetflow/contracts/internal";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { Subscription } from "@nats-io/transport-node";
import { ActivityRunner } from "./activity-runner";
import { WorkerError } from "./errors";
import { silentLogger } from "./logger";
import { createTaskObserver } from "./metrics";
import type { Worker, WorkerOptions } from "./types";

/**
 * Creates a worker that runs `handlers` on the tasks of their activities. Nothing happens until
 * `start()`; `stop()` hands back what it cannot finish. The connection stays the caller's.
 *
 * @throws WorkerError when an activity name is not one Step Functions accepts (`activityNameProblem`
 * in @jetflow/contracts says why) or a number option is out of range
 */
export function createWorker(options: WorkerOptions): Worker {
  const activities = Object.keys(options.handlers);
  if (activities.length === 0) throw new WorkerError("cannot create a worker without handlers");
  for (const activity of activities) {
    const problem = activityNameProblem(activity);
    if (problem !== undefined)
      throw new WorkerError(`invalid activity ${JSON.stringify(activity)}: ${problem}`);
  }
  const concurrency = boundedInteger("concurrency", options.concurrency ?? 10);
  const ackWaitMs = boundedInteger("ackWaitMs", options.ackWaitMs ?? DEFAULT_TASK_ACK_WAIT_MS);
  const stopTimeoutMs = boundedInteger("stopTimeoutMs", options.stopTimeoutMs ?? 20_000, 0);
  const heartbeatTimeoutMs = boundedInteger("heartbeatTimeoutMs", options.heartbeatTimeoutMs ?? 5_000);
  const pullExpiresMs = boundedInteger(
    "pullExpiresMs",
    options.pullExpiresMs ?? DEFAULT_PULL_EXPIRES_MS,
    1_000,
  );
  const replicas = boundedInteger("replicas", options.replicas ?? 1);
  const log = options.logger ?? silentLogger;
  const workerId = options.workerId ?? `${hostname()}-${process.pid}-${randomBytes(3).toString("hex")}`;
  const { nc } = options;
  const observer = options.metrics ? createTaskObserver(options.metrics) : undefined;

  let runners: ActivityRunner[] | undefined;
  let presence: Subscription | undefined;
  let starting: Promise<void> | undefined;
  let stopping: Promise<void> | undefined;

  const start = async (): Promise<void> => {
    const jsm = await jetstreamManager(nc);
    // A worker may start before the dispatcher: it creates what it needs, but never changes an
    // existing stream (its owner's replicas and limits win).
    if (options.ensureStreams ?? true) {
      await ensureStreamExists(jsm, streamConfigs.tasks({ replicas }));
      await ensureStreamExists(jsm, streamConfigs.deadLetters({ replicas }));
    }
    const js = jetstream(nc);
    const started: ActivityRunner[] = [];
    runners = started;
    for (const activity of activities) {
      const handler = options.handlers[activity];
      if (!handler) continue;
      const runner = new ActivityRunner({
        activity,
        handler,
        nc,
        js,
        jsm,
        log,
        workerId,
        concurrency,
        ackWaitMs,
        heartbeatTimeoutMs,
        pullExpiresMs,
        observer,
      });
      await runner.start();
      started.push(runner);
    }
    answerPresencePings();
    // Started means counted: the subscription has reached the server.
    await nc.flush();
    log.info({ workerId, activities, concurrency }, "worker started");
  };

  return {
    workerId,
    start() {
      if (starting) return Promise.reject(new WorkerError("worker already started"));
      starting = start().catch(async (err: unknown) => {
        await stopRunners(Date.now());
        throw new WorkerError(`cannot start worker: ${err instanceof Error ? err.message : String(err)}`, {
          cause: err,
        });
      });
      return starting;
    },
    stop() {
      stopping ??= (async () => {
        await starting?.catch(() => {});
        presence?.unsubscribe();
        await stopRunners(Date.now() + stopTimeoutMs);
        log.info({ workerId }, "worker stopped");
      })();
      return stopping;
    },
    inFlight() {
      return (runners ?? []).reduce((sum, runner) => sum + runner.inFlight, 0);
    },
    ready() {
      return (
        stopping === undefined &&
        runners !== undefined &&
        runners.length > 0 &&
        runners.every((r) => r.ready())
      );
    },
  };

  /**
   * Answers every presence ping (no queue group: each worker process answers) with what this
   * worker runs, so that GetEngineStats counts it among the workers connected.
   */
  function answerPresencePings(): void {
    presence = nc.subscribe(subjects.workersPing, {
      callback: (err, msg) => {
        if (err || !msg.reply) return;
        const inFlight = (runners ?? []).reduce((sum, runner) => sum + runner.inFlight, 0);
        msg.respond(
          encode(WorkerPresence, { workerId, activities, concurrency, inFlight, sdk: "typescript" }),
        );
      },
    });
  }

  async function stopRunners(deadline: number): Promise<void> {
    await Promise.all((runners ?? []).map((runner) => runner.stop(deadline)));
  }
}

function boundedInteger(name: string, value: number, min = 1): number {
  // Every one of these ends up in a setTimeout, which fires at once beyond 2^31-1 ms.
  const max = 2 ** 31 - 1;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new WorkerError(`${name} must be an integer from ${min} to ${max}, got ${value}`);
  }
  return value;
}
