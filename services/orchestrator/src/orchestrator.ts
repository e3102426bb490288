/**
 * The orchestrator's I/O: pulls commands, groups them by execution, runs the pure `decide` for all
 * commands of one execution as one transition, commits the transition through the state-manager
 * and only then acks the commands. While a transition of an execution is being committed, newer
 * commands for it queue up and are folded into the next transition (many Map results arriving
 * together become few transitions).
 */
import { randomUUID } from "node:crypto";
import type { Json, StateMachine } from "@jetflow/asl";
import {
  Command,
  consumerConfigs,
  decode,
  parseHeartbeatRecord,
  ensureStream,
  ensureStreamExists,
  formatHeartbeatRecord,
  openOrCreateBucket,
  streamConfigs,
  streams,
  subjects,
  buckets,
  bucketConfigs,
} from "@jetflow/contracts";
import type { EventBatch, ExecutionSnapshot } from "@jetflow/contracts";
import { startDurableConsumer } from "@jetflow/contracts/internal";
import type { DurableConsumer } from "@jetflow/contracts/internal";
import {
  DEFAULT_MAX_COMMIT_BATCH,
  ExecutionLog,
  LruCache,
  Semaphore,
  StateClient,
  publishDeadLetter,
} from "@jetflow/service-runtime";
import type { Component, Logger } from "@jetflow/service-runtime";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { JsMsg } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import type { KV } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import type { Config } from "./config";
import {
  completeChildStart,
  decideTransition,
  isJudgedOnStaleSnapshot,
  provenEventId,
  rootExecutionOf,
  snapshotFromCarriedStart,
} from "@jetflow/engine";
import type { DecideEnv, Ignored, RootExecution } from "@jetflow/engine";
import { DefinitionCache } from "./definitions";
import { readChildOutputs } from "./history-reader";
import { resultReceiver } from "./results";

/** What the orchestrator needs from its surroundings. */
export interface OrchestratorOptions {
  nc: NatsConnection;
  log: Logger;
  config: Pick<
    Config,
    | "replicas"
    | "maxChildrenPerTransition"
    | "maxStatesPerTransition"
    | "cacheEntries"
    | "maxInFlight"
    | "maxResultsInFlight"
    | "maxConcurrentTransitions"
    | "stateTimeoutMs"
    | "ackWaitMs"
    | "behindMaxDeliveries"
    | "maxOutputBytes"
  > &
    Partial<Pick<Config, "maxCommitBatch">>;
  /** The clock; default `() => new Date()`. */
  now?: () => Date;
  /**
   * Told of each transition the state-manager appended (not of duplicates or conflicts), with the
   * snapshot it was decided on: what metrics count (see `metrics.ts`). Must not throw.
   */
  onCommitted?: (before: ExecutionSnapshot | undefined, batch: EventBatch, after: ExecutionSnapshot) => void;
}

interface Queued {
  msg: JsMsg;
  command: Command;
  /** Told once how the message was settled (a result's trace span ends there). */
  settled?: (problem?: string) => void;
}

/**
 * How a transition ended. `behind`: indices of commands judged on a snapshot that provably lags
 * the stream (see evidence.ts); `malformed`: indices of commands that can never apply, with why.
 */
type Decided =
  | { kind: "done"; behind: Set<number>; malformed: Map<number, string> }
  | { kind: "conflict" }
  | { kind: "stale-cache" };

const MAX_CONFLICT_RETRIES = 20;
/** Redelivery delay of a command judged on a snapshot behind the stream: doubling, capped. */
export function behindRetryDelayMs(deliveryCount: number): number {
  return Math.min(200 * 2 ** Math.max(deliveryCount - 1, 0), 10_000);
}
const MAX_COMMANDS_PER_TRANSITION = 256;
/**
 * Map rounds whose items are kept between launch slices (see DecideEnv.roundItems): a few, since
 * only a Map larger than one slice (500 children) needs them again, and one round of 100,000
 * items is a few MB.
 */
const ROUND_ITEMS_KEPT = 4;
/** Deliveries of a command whose decision throws before it is parked. */
const MAX_DECISION_ATTEMPTS = 5;

/** A command whose decision threw: a bug or an unusable definition, not an outage. */
class DecisionError extends Error {
  override readonly name = "DecisionError";
  constructor(
    readonly commandIndex: number,
    cause: unknown,
  ) {
    super(`cannot apply command: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

/** Creates the orchestrator component; `start()` binds the consumer and begins processing. */
export function createOrchestrator(options: OrchestratorOptions) {
  const { nc, log, config } = options;
  const now = options.now ?? (() => new Date());
  const js = jetstream(nc);
  const state = new StateClient(
    nc,
    config.stateTimeoutMs,
    undefined,
    config.maxCommitBatch ?? DEFAULT_MAX_COMMIT_BATCH,
  );
  const snapshots = new LruCache<string, ExecutionSnapshot>(Math.max(config.cacheEntries, 1));
  const roots = new LruCache<string, RootExecution>(Math.max(config.cacheEntries, 1));
  const keptRoundItems = new LruCache<string, readonly Json[]>(ROUND_ITEMS_KEPT);
  const roundItems = (roundKey: string, compute: () => Json[]): readonly Json[] => {
    let items = keptRoundItems.get(roundKey);
    if (items === undefined) keptRoundItems.set(roundKey, (items = compute()));
    return items;
  };
  let defsKv: Promise<KV> | undefined;
  let heartbeatsKv: Promise<KV> | undefined;
  const definitions = new DefinitionCache(() => {
    defsKv ??= new Kvm(js).create(
      buckets.definitions,
      bucketConfigs.definitions({ replicas: config.replicas }),
    );
    defsKv.catch(() => (defsKv = undefined));
    return defsKv;
  });
  const queues = new Map<string, Queued[]>();
  // Bounds concurrent transitions: past a point more of them only queue up in NATS and the
  // state-manager, and every request's latency (and timeouts) grows.
  const transitionSlots = new Semaphore(config.maxConcurrentTransitions);
  const busy = new Set<string>();
  const counters = {
    transitions: 0,
    commands: 0,
    ignored: 0,
    conflicts: 0,
    deadLetters: 0,
    behind: 0,
    results: 0,
    heartbeats: 0,
  };
  let commands: DurableConsumer | undefined;
  let results: DurableConsumer | undefined;
  const idleWaiters: (() => void)[] = [];

  async function start(): Promise<void> {
    const jsm = await jetstreamManager(nc);
    await ensureStream(jsm, streamConfigs.commands({ replicas: config.replicas }));
    await ensureStream(jsm, streamConfigs.deadLetters({ replicas: config.replicas }));
    // The result-ingestor owns the results stream and the heartbeat records: created here only
    // when missing (services start in any order), with the owner's configuration.
    await ensureStreamExists(jsm, streamConfigs.results({ replicas: config.replicas }));
    const heartbeatRecords = openOrCreateBucket(
      nc,
      buckets.heartbeats,
      bucketConfigs.heartbeats({ replicas: config.replicas }),
    );
    heartbeatsKv = heartbeatRecords;
    await heartbeatRecords;
    // The shared loop holds each command until processGroup acks or NAKs it (counting it in
    // flight and keeping it alive with in-progress acks meanwhile), recreates the consumer when
    // it is deleted and pulls again after a lost pull.
    commands = await startDurableConsumer({
      nc,
      stream: streams.commands,
      config: consumerConfigs.commands(config.ackWaitMs, config.maxInFlight * 2),
      maxInFlight: config.maxInFlight,
      handle: receive,
      log,
    });
    // Results are read here, not re-published as commands by another process: each step saves
    // a stream write, an ack and a hop. The durable keeps the name "result-ingestor" it had when
    // that service read it, so that during an upgrade old and new processes share it (a
    // work-queue stream refuses a second consumer of the same subjects).
    results = await startDurableConsumer({
      nc,
      stream: streams.results,
      config: consumerConfigs.results(config.ackWaitMs, config.maxResultsInFlight * 2),
      maxInFlight: config.maxResultsInFlight,
      handle: resultReceiver({
        limits: { maxOutputBytes: config.maxOutputBytes },
        log,
        now,
        counters,
        enqueue: (msg, command, settled) => enqueue({ msg, command, settled }),
        park,
        recordHeartbeat: async (taskToken) => {
          await (await heartbeatRecords).put(taskToken, formatHeartbeatRecord(now().getTime()));
        },
      }),
      log,
    });
  }

  function receive(msg: JsMsg): void {
    let command: Command;
    try {
      command = decode(Command, "Command", msg.data, msg.subject);
      if (!command.executionId || subjects.command(command.executionId) !== msg.subject) {
        throw new Error(`command for "${command.executionId}" arrived on "${msg.subject}"`);
      }
    } catch (err) {
      void park(msg, err);
      return;
    }
    counters.commands++;
    enqueue({ msg, command });
  }

  /** Queues a command (or a result's outcome) behind the other commands of its execution. */
  function enqueue(queued: Queued): void {
    const id = queued.command.executionId;
    let queue = queues.get(id);
    if (!queue) queues.set(id, (queue = []));
    queue.push(queued);
    if (!busy.has(id)) void drain(id);
  }

  /** Processes an execution's queued commands, one transition at a time, until none are left. */
  async function drain(executionId: string): Promise<void> {
    busy.add(executionId);
    try {
      for (;;) {
        const queue = queues.get(executionId);
        if (!queue || queue.length === 0) break;
        // Fold what arrived together into one transition, in bounded groups so that one
        // transition (and its commit request) stays far below the NATS payload limit.
        const group = queue.splice(0, MAX_COMMANDS_PER_TRANSITION);
        if (queue.length === 0) queues.delete(executionId);
        await processGroup(executionId, group);
      }
    } finally {
      busy.delete(executionId);
      if (busy.size === 0) for (const wake of idleWaiters.splice(0)) wake();
    }
  }

  async function processGroup(executionId: string, group: Queued[]): Promise<void> {
    await transitionSlots.acquire();
    try {
      await processGroupInSlot(executionId, group);
    } finally {
      transitionSlots.release();
    }
  }

  async function processGroupInSlot(executionId: string, group: Queued[]): Promise<void> {
    const elog = new ExecutionLog(log, executionId);
    for (let attempt = 0; ; attempt++) {
      try {
        const outcome = await decideAndCommit(executionId, group, elog, attempt === 0);
        if (outcome.kind === "conflict" || outcome.kind === "stale-cache") {
          if (outcome.kind === "conflict") counters.conflicts++;
          snapshots.delete(executionId);
          if (attempt < MAX_CONFLICT_RETRIES) continue;
          throw new Error(`gave up after ${MAX_CONFLICT_RETRIES} conflicting commits`);
        }
        settle(group, outcome, elog);
        return;
      } catch (err) {
        snapshots.delete(executionId);
        if (err instanceof DecisionError) {
          // A bug or an unusable definition, not an outage: retried a few times (it may depend on
          // a state that changes), then parked so it cannot block its execution forever.
          const poison = group[err.commandIndex];
          if (poison && poison.msg.info.deliveryCount >= MAX_DECISION_ATTEMPTS) {
            elog.log.error({ err, kind: poison.command.kind?.$case }, "command cannot be applied; parked");
            void park(poison.msg, err.cause ?? err);
            poison.settled?.("parked");
            for (const q of group) if (q !== poison) handBack(q, 100, "not decided");
            return;
          }
        }
        elog.log.warn({ err, commands: group.length }, "transition failed; commands will be redelivered");
        // Redelivery later retries the whole group; NAK with a delay avoids a hot loop.
        for (const q of group) handBack(q, 1000, "not decided");
        return;
      }
    }
  }

  /**
   * Acks what the transition settled, and only that: a command judged on a snapshot behind the
   * stream goes back with a growing delay (parked once it has been tried for long), a malformed
   * one is parked. Nothing valid is acknowledged as changing nothing unless that was proven.
   */
  function settle(group: Queued[], outcome: Extract<Decided, { kind: "done" }>, elog: ExecutionLog): void {
    for (const [index, q] of group.entries()) {
      const { msg, command } = q;
      const malformed = outcome.malformed.get(index);
      if (malformed !== undefined) {
        void park(msg, new Error(malformed));
        q.settled?.("parked");
      } else if (outcome.behind.has(index)) {
        counters.behind++;
        const deliveries = msg.info.deliveryCount;
        const proven = provenEventIdOrZero(command);
        // Bounded so that a forged command cannot circulate for ever; long enough (see config) to
        // ride out a partition or a stream without a leader.
        if (deliveries >= config.behindMaxDeliveries) {
          const reason =
            `command ${command.kind?.$case ?? "?"} refers to event ${proven} of execution ` +
            `"${command.executionId}", which no snapshot had after ${deliveries} deliveries`;
          elog.log.error({ kind: command.kind?.$case, deliveries, provenEventId: proven }, "command parked");
          void park(msg, new Error(reason));
          q.settled?.("parked");
        } else {
          elog.log.warn(
            { kind: command.kind?.$case, deliveries, provenEventId: proven },
            "command judged on a snapshot behind the stream; retrying it",
          );
          handBack(q, behindRetryDelayMs(deliveries), "judged on a snapshot behind the stream");
        }
      } else {
        msg.ack();
        q.settled?.();
      }
    }
  }

  async function decideAndCommit(
    executionId: string,
    group: Queued[],
    elog: ExecutionLog,
    firstAttempt: boolean,
  ): Promise<Decided> {
    // Guesses that spare a load, made on the first attempt only (after a conflict the guess has
    // failed, so load): a top-level Begin carries the start batch (BeginExecution.start_batch),
    // and a child's first command almost always finds no execution yet (a conflict, if it exists
    // after all, falls back to loading).
    const first = group[0]?.command.kind;
    const assumeNew = firstAttempt && first?.$case === "begin" && first.value.child !== undefined;
    const cached =
      snapshots.get(executionId) ?? (firstAttempt ? carriedStartSnapshot(executionId, group) : undefined);
    const snapshot = cached ?? (assumeNew ? undefined : await state.load(executionId));
    // Every later line about this execution names its workflow and the state it was in.
    if (snapshot) elog.name(snapshot);
    const completed = await Promise.all(group.map((q) => completeChildBegin(q.command, snapshot)));
    const commands = completed.map((c) => c.command);
    const behind = new Set<number>();
    const malformed = new Map<number, string>();
    for (const [index, c] of completed.entries()) if (c.parentBehind) behind.add(index);
    const judge = (index: number, command: Command, ignored: Ignored, on: ExecutionSnapshot | undefined) => {
      try {
        if (ignored === "malformed") malformed.set(index, "command is malformed");
        else if (isJudgedOnStaleSnapshot(command, ignored, on)) behind.add(index);
      } catch (err) {
        malformed.set(index, err instanceof Error ? err.message : String(err));
      }
    };
    let outputs: Map<number, Map<number, string>> | undefined;
    for (;;) {
      const definition = await definitionFor(snapshot, commands);
      if (!definition) {
        for (const [index, command] of commands.entries()) {
          if (!behind.has(index)) judge(index, command, "unknown-execution", snapshot);
        }
        elog.debug({ commands: commands.length, behind: behind.size }, "commands for an unknown execution");
        counters.ignored += commands.length - behind.size;
        if (cached && behind.size > 0) return { kind: "stale-cache" };
        return { kind: "done", behind, malformed };
      }
      const root = await rootExecutionFor(executionId, snapshot, commands);
      const heartbeats = await lastHeartbeatsFor(snapshot, commands);
      const env: DecideEnv = {
        root,
        lastHeartbeatMs: (token) => heartbeats.get(token),
        now: now(),
        definition,
        random: Math.random,
        uuid: randomUUID,
        maxChildrenPerTransition: config.maxChildrenPerTransition,
        maxStatesPerTransition: config.maxStatesPerTransition,
        childOutputs: (startedEventId) => outputs?.get(startedEventId),
        roundItems,
      };
      const decision = decideTransition(executionId, snapshot, commands, env);
      if (decision.kind === "failed") throw new DecisionError(decision.commandIndex, decision.error);
      if (decision.kind === "needs") {
        // The last child of a round completed: its result needs the children's outputs, which
        // travel in the history. Read them, then decide the whole group again.
        const { startedEventId } = decision.need;
        outputs ??= new Map();
        outputs.set(startedEventId, await readChildOutputs(nc, executionId, startedEventId));
        continue;
      }
      const t = decision.transition;
      for (const [index, ignored] of decision.ignored.entries()) {
        const command = commands[index];
        if (ignored && command && !behind.has(index)) {
          counters.ignored++;
          judge(index, command, ignored, snapshot);
          elog.debug({ ignored, kind: command.kind?.$case }, "command changed nothing");
        }
      }
      const next = t.snapshot;
      const batch = t.toBatch(next?.parent);
      if (batch && next && !snapshot) inheritTraceParent(batch, next);
      // The effects of the batch (tasks) continue the execution's trace (see trace-context).
      if (batch && next?.traceParent !== undefined) batch.traceParent = next.traceParent;
      if (!batch || !next) {
        // Nothing to do, judged on a cached snapshot that another replica may have moved past
        // (a result for the task it scheduled looks stale here): judge again on a fresh load.
        if (cached) return { kind: "stale-cache" };
        return { kind: "done", behind, malformed };
      }
      const result = await state.commit({
        batch,
        expectedLastEventSeq: snapshot?.lastEventSeq ?? 0,
        snapshot: next,
      });
      if (result.kind === "conflict") return { kind: "conflict" };
      counters.transitions++;
      if (result.duplicate) {
        // The same first event id was appended before, perhaps with other content: reload.
        snapshots.delete(executionId);
      } else {
        snapshots.set(executionId, { ...next, lastEventSeq: result.eventSeq });
        options.onCommitted?.(snapshot, batch, next);
      }
      return { kind: "done", behind, malformed };
    }
  }

  /** The snapshot folded from a start batch a Begin of the group carries, if any. */
  function carriedStartSnapshot(executionId: string, group: Queued[]): ExecutionSnapshot | undefined {
    for (const { command } of group) {
      const snapshot = snapshotFromCarriedStart(executionId, command);
      if (snapshot) return snapshot;
    }
    return undefined;
  }

  /**
   * A child execution (Map iteration, Parallel branch) joins its parent's trace: its
   * ExecutionStarted and snapshot get the parent's trace parent, read from the parent's snapshot,
   * which deciding the child's start has just loaded (or found cached).
   */
  function inheritTraceParent(batch: EventBatch, child: ExecutionSnapshot): void {
    const parentId = child.parent?.executionId;
    const traceParent = parentId === undefined ? undefined : snapshots.get(parentId)?.traceParent;
    const started = batch.events[0]?.details;
    if (traceParent === undefined || started?.$case !== "executionStarted") return;
    started.value.traceParent = traceParent;
    child.traceParent = traceParent;
  }

  /**
   * The last heartbeats of the task attempts whose results arrived more than HeartbeatSeconds
   * after they were scheduled: only then does the decision need them (see `lateness`).
   */
  async function lastHeartbeatsFor(
    snapshot: ExecutionSnapshot | undefined,
    commands: Command[],
  ): Promise<Map<string, number>> {
    const found = new Map<string, number>();
    const phase = snapshot?.active?.phase;
    if (phase?.$case !== "task" || phase.value.heartbeatSeconds <= 0) return found;
    const task = phase.value;
    const deadlineMs = (task.scheduledTime?.getTime() ?? 0) + task.heartbeatSeconds * 1000;
    for (const command of commands) {
      const kind = command.kind;
      if (kind?.$case !== "taskOutcome" || kind.value.taskToken !== task.taskToken) continue;
      if ((kind.value.receivedTime?.getTime() ?? 0) <= deadlineMs) continue;
      heartbeatsKv ??= new Kvm(js).open(buckets.heartbeats);
      heartbeatsKv.catch(() => (heartbeatsKv = undefined));
      const entry = await (await heartbeatsKv).get(task.taskToken);
      const lastMs = entry?.operation === "PUT" ? parseHeartbeatRecord(entry.string()) : undefined;
      if (lastMs !== undefined) found.set(task.taskToken, lastMs);
      // One active task, so one record: duplicates of its result need no second read.
      break;
    }
    return found;
  }

  /**
   * `$$.Execution`'s source when deciding for a child execution: its top-level execution, whose
   * identity and input never change once started, so it is cached.
   */
  async function rootExecutionFor(
    executionId: string,
    snapshot: ExecutionSnapshot | undefined,
    commands: Command[],
  ): Promise<RootExecution | undefined> {
    let rootId = snapshot?.rootExecutionId ?? "";
    if (!snapshot) {
      for (const command of commands) {
        if (command.kind?.$case === "begin" && command.kind.value.child?.rootExecutionId) {
          rootId = command.kind.value.child.rootExecutionId;
        }
      }
    }
    if (rootId === "" || rootId === executionId) return undefined;
    const known = roots.get(rootId);
    if (known) return known;
    const stored = snapshots.get(rootId) ?? (await state.load(rootId));
    if (!stored) throw new Error(`the top-level execution "${rootId}" of "${executionId}" was not found`);
    const root = rootExecutionOf(stored);
    roots.set(rootId, root);
    return root;
  }

  async function definitionFor(
    snapshot: ExecutionSnapshot | undefined,
    commands: Command[],
  ): Promise<StateMachine | undefined> {
    if (snapshot) return definitions.get(snapshot.workflowName, snapshot.workflowVersion);
    const child = commands.find((c) => c.kind?.$case === "begin" && c.kind.value.child?.workflowName);
    const start = child?.kind?.$case === "begin" ? child.kind.value.child : undefined;
    return start ? definitions.get(start.workflowName, start.workflowVersion) : undefined;
  }

  /**
   * A child's Begin completed from its parent's snapshot; `parentBehind` when the parent's
   * snapshot does not yet have the round that launched the child (it must be tried again).
   */
  async function completeChildBegin(
    command: Command,
    own: ExecutionSnapshot | undefined,
  ): Promise<{ command: Command; parentBehind: boolean }> {
    const kind = command.kind;
    if (kind?.$case !== "begin" || !kind.value.child?.parent || own) return { command, parentBehind: false };
    const start = kind.value.child;
    const parentId = start.parent?.executionId ?? "";
    const complete = async (parent: ExecutionSnapshot | undefined) => {
      const definition = parent
        ? await definitions.get(parent.workflowName, parent.workflowVersion)
        : undefined;
      return definition ? completeChildStart(start, parent, definition) : undefined;
    };
    // A cached parent may predate the round this child belongs to (another replica started it).
    const cachedParent = snapshots.get(parentId);
    let child = cachedParent ? await complete(cachedParent) : undefined;
    let parentBehind = false;
    if (!child) {
      const fresh = await state.load(parentId);
      if (fresh) snapshots.set(parentId, fresh);
      child = await complete(fresh);
      parentBehind = !child && (fresh?.lastEventId ?? 0) < (start.parent?.entryEventId ?? 0);
    }
    return {
      command: { executionId: command.executionId, kind: { $case: "begin", value: { child } } },
      parentBehind,
    };
  }

  /** Hands a message back for redelivery after `delayMs`. */
  function handBack(q: Queued, delayMs: number, why: string): void {
    q.msg.nak(delayMs);
    q.settled?.(why);
  }

  function provenEventIdOrZero(command: Command): number {
    try {
      return provenEventId(command);
    } catch {
      return 0;
    }
  }

  async function park(msg: JsMsg, err: unknown): Promise<void> {
    counters.deadLetters++;
    const reason = err instanceof Error ? err.message : String(err);
    log.warn({ subject: msg.subject, reason }, "message parked");
    try {
      await publishDeadLetter(js, {
        service: "orchestrator",
        subject: msg.subject,
        data: msg.data,
        reason,
        parkedTime: now(),
        deliveryCount: msg.info.deliveryCount,
      });
      msg.ack();
    } catch (parkErr) {
      log.error({ err: parkErr }, "cannot park a message; it will be redelivered");
      msg.nak(5000);
    }
  }

  async function stop(): Promise<void> {
    await Promise.all([commands?.close(), results?.close()]);
    if (busy.size > 0) await new Promise<void>((resolve) => idleWaiters.push(resolve));
  }

  const component: Component & { start(): Promise<void>; counters: typeof counters } = {
    start,
    stop,
    ready: () => (commands?.ready() ?? false) && (results?.ready() ?? false),
    // Child outputs are read back from the events stream; transitions go through the state-manager.
    requiredStreams: [streams.commands, streams.results, streams.events],
    counters,
  };
  return component;
}
