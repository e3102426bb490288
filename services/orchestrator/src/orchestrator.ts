/**
 * The orchestrator's I/O: pulls commands, groups them by execution, runs the pure `decide` for all
 * commands of one execution as one transition, commits the transition through the state-manager
 * and only then acks the commands. While a transition of an execution is being committed, newer
 * commands for it queue up and are folded into the next transition (many Map results arriving
 * together become few transitions).
 */
import { randomUUID } from "node:crypto";
import type { StateMachine } from "@jetflow/asl";
import {
  Command,
  DeadLetter,
  consumerConfigs,
  decode,
  encode,
  ensureStream,
  streamConfigs,
  streams,
  subjects,
  buckets,
  bucketConfigs,
} from "@jetflow/contracts";
import type { ExecutionSnapshot } from "@jetflow/contracts";
import { startDurableConsumer } from "@jetflow/contracts/internal";
import type { DurableConsumer } from "@jetflow/contracts/internal";
import type { Component, Logger } from "@jetflow/service-runtime";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { JsMsg } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import type { KV } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import type { Config } from "./config";
import { ChildOutputsNeeded, applyCommand } from "./decide";
import type { DecideEnv, Ignored } from "./decide";
import { DefinitionCache } from "./definitions";
import { readChildOutputs } from "./history-reader";
import { LruCache } from "./lru";
import { Semaphore } from "./semaphore";
import { StateClient } from "@jetflow/execution-model";
import { completeChildStart } from "./machine";

import { Transition } from "./transition";

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
    | "maxConcurrentTransitions"
    | "stateTimeoutMs"
    | "ackWaitMs"
  >;
  /** The clock; default `() => new Date()`. */
  now?: () => Date;
}

interface Queued {
  msg: JsMsg;
  command: Command;
}

const MAX_CONFLICT_RETRIES = 20;
const MAX_COMMANDS_PER_TRANSITION = 256;
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
  const state = new StateClient(nc, config.stateTimeoutMs);
  const snapshots = new LruCache<string, ExecutionSnapshot>(Math.max(config.cacheEntries, 1));
  let defsKv: Promise<KV> | undefined;
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
  const counters = { transitions: 0, commands: 0, ignored: 0, conflicts: 0, deadLetters: 0 };
  let commands: DurableConsumer | undefined;
  const idleWaiters: (() => void)[] = [];

  async function start(): Promise<void> {
    const jsm = await jetstreamManager(nc);
    await ensureStream(jsm, streamConfigs.commands({ replicas: config.replicas }));
    await ensureStream(jsm, streamConfigs.deadLetters({ replicas: config.replicas }));
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
    const id = command.executionId;
    let queue = queues.get(id);
    if (!queue) queues.set(id, (queue = []));
    queue.push({ msg, command });
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
    const elog = log.child({ executionId });
    // A child's first command almost always finds no execution yet: try creating it without a
    // load (a conflict, if it exists after all, falls back to loading).
    const first = group[0]?.command.kind;
    const likelyNew = first?.$case === "begin" && first.value.child !== undefined;
    for (let attempt = 0; ; attempt++) {
      try {
        const outcome = await decideAndCommit(executionId, group, elog, likelyNew && attempt === 0);
        if (outcome === "conflict" || outcome === "stale-cache") {
          if (outcome === "conflict") counters.conflicts++;
          snapshots.delete(executionId);
          if (attempt < MAX_CONFLICT_RETRIES) continue;
          throw new Error(`gave up after ${MAX_CONFLICT_RETRIES} conflicting commits`);
        }
        for (const { msg } of group) msg.ack();
        return;
      } catch (err) {
        snapshots.delete(executionId);
        if (err instanceof DecisionError) {
          // A bug or an unusable definition, not an outage: retried a few times (it may depend on
          // a state that changes), then parked so it cannot block its execution forever.
          const poison = group[err.commandIndex];
          if (poison && poison.msg.info.deliveryCount >= MAX_DECISION_ATTEMPTS) {
            elog.error({ err, kind: poison.command.kind?.$case }, "command cannot be applied; parked");
            void park(poison.msg, err.cause ?? err);
            for (const { msg } of group) if (msg !== poison.msg) msg.nak(100);
            return;
          }
        }
        elog.warn({ err, commands: group.length }, "transition failed; commands will be redelivered");
        // Redelivery later retries the whole group; NAK with a delay avoids a hot loop.
        for (const { msg } of group) msg.nak(1000);
        return;
      }
    }
  }

  async function decideAndCommit(
    executionId: string,
    group: Queued[],
    elog: Logger,
    assumeNew: boolean,
  ): Promise<"ok" | "conflict" | "stale-cache"> {
    const cached = snapshots.get(executionId);
    const snapshot = cached ?? (assumeNew ? undefined : await state.load(executionId));
    const commands = await Promise.all(group.map((q) => completeChildBegin(q.command, snapshot)));
    let outputs: Map<number, Map<number, string>> | undefined;
    for (;;) {
      const definition = await definitionFor(snapshot, commands);
      const t = new Transition(executionId, snapshot, now());
      if (!definition) {
        elog.debug({ commands: commands.length }, "commands for an unknown execution dropped");
        counters.ignored += commands.length;
        return "ok";
      }
      const env: DecideEnv = {
        now: now(),
        definition,
        random: Math.random,
        uuid: randomUUID,
        maxChildrenPerTransition: config.maxChildrenPerTransition,
        maxStatesPerTransition: config.maxStatesPerTransition,
        childOutputs: (startedEventId) => outputs?.get(startedEventId),
      };
      try {
        for (const [index, command] of commands.entries()) {
          let ignored: Ignored;
          try {
            ignored = applyCommand(t, command, env);
          } catch (err) {
            if (err instanceof ChildOutputsNeeded) throw err;
            throw new DecisionError(index, err);
          }
          if (ignored) {
            counters.ignored++;
            elog.debug({ ignored, kind: command.kind?.$case }, "command changed nothing");
          }
        }
      } catch (err) {
        if (!(err instanceof ChildOutputsNeeded)) throw err;
        outputs ??= new Map();
        outputs.set(err.startedEventId, await readChildOutputs(nc, executionId, err.startedEventId));
        continue;
      }
      const next = t.snapshot;
      const batch = t.toBatch(next?.parent);
      if (!batch || !next) {
        // Nothing to do, judged on a cached snapshot that another replica may have moved past
        // (a result for the task it scheduled looks stale here): judge again on a fresh load.
        if (cached) return "stale-cache";
        return "ok";
      }
      const result = await state.commit({
        batch,
        expectedLastEventSeq: snapshot?.lastEventSeq ?? 0,
        snapshot: next,
      });
      if (result.kind === "conflict") return "conflict";
      counters.transitions++;
      if (result.duplicate) {
        // The same first event id was appended before, perhaps with other content: reload.
        snapshots.delete(executionId);
      } else {
        snapshots.set(executionId, { ...next, lastEventSeq: result.eventSeq });
      }
      return "ok";
    }
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

  async function completeChildBegin(command: Command, own: ExecutionSnapshot | undefined): Promise<Command> {
    const kind = command.kind;
    if (kind?.$case !== "begin" || !kind.value.child?.parent || own) return command;
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
    if (!child) {
      const fresh = await state.load(parentId);
      if (fresh) snapshots.set(parentId, fresh);
      child = await complete(fresh);
    }
    return { executionId: command.executionId, kind: { $case: "begin", value: { child } } };
  }

  async function park(msg: JsMsg, err: unknown): Promise<void> {
    counters.deadLetters++;
    const reason = err instanceof Error ? err.message : String(err);
    log.warn({ subject: msg.subject, reason }, "command parked");
    try {
      const letter: DeadLetter = {
        service: "orchestrator",
        subject: msg.subject,
        data: Buffer.from(msg.data),
        reason,
        parkedTime: now(),
      };
      await js.publish(subjects.deadLetter("orchestrator"), encode(DeadLetter, letter));
      msg.ack();
    } catch (parkErr) {
      log.error({ err: parkErr }, "cannot park a malformed command; it will be redelivered");
      msg.nak(5000);
    }
  }

  async function stop(): Promise<void> {
    await commands?.close();
    if (busy.size > 0) await new Promise<void>((resolve) => idleWaiters.push(resolve));
  }

  const component: Component & { start(): Promise<void>; counters: typeof counters } = {
    start,
    stop,
    ready: () => commands?.ready() ?? false,
    // Child outputs are read back from the events stream; transitions go through the state-manager.
    requiredStreams: [streams.commands, streams.events],
    counters,
  };
  return component;
}
