/**
 * Runs dispatcher instances in-process against a test nats-server, feeds them EventBatches the way
 * the state-manager appends them, and reads what they published straight from the streams (direct
 * get by subject), so no test consumer competes with the work-queue streams' own consumers.
 */
import {
  Command,
  EventBatch,
  consumers,
  encode,
  ensureStream,
  streamConfigs,
  streams,
  subjects,
} from "@jetflow/contracts";
import type { HistoryEvent, ParentRef } from "@jetflow/contracts";
import { connectTo, waitFor } from "@jetflow/testing";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { JetStreamManager, StoredMsg } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import pino from "pino";
import { loadConfig } from "../src/config";
import { createDispatcher } from "../src/dispatcher";
import type { Dispatcher } from "../src/dispatcher";

/** A running in-process dispatcher with its own connection. */
export interface RunningDispatcher {
  dispatcher: Dispatcher;
  nc: NatsConnection;
  /** Stops the component, then closes its connection. Safe to call twice. */
  stop(): Promise<void>;
}

/**
 * Starts a dispatcher on its own connection to `url`, configured through its environment
 * variables; a short ack wait makes redeliveries after a NATS restart quick.
 */
export async function startDispatcher(
  url: string,
  env: Record<string, string> = {},
): Promise<RunningDispatcher> {
  const nc = await connectTo(url, { name: "dispatcher-under-test" });
  const config = loadConfig({
    NATS_URL: url,
    DISPATCH_ACK_WAIT_MS: "5000",
    DISPATCH_RETRY_DELAY_MS: "200",
    ...env,
  });
  const log = pino({ level: process.env["TEST_LOG_LEVEL"] ?? "silent" });
  const dispatcher = createDispatcher({ nc, log, config });
  let stopping: Promise<void> | undefined;
  try {
    await dispatcher.start();
  } catch (err) {
    await nc.close();
    throw err;
  }
  return {
    dispatcher,
    nc,
    stop: () => {
      stopping ??= (async () => {
        try {
          await dispatcher.stop();
        } finally {
          await nc.close();
        }
      })();
      return stopping;
    },
  };
}

/** Creates the events stream as its owner (the state-manager) would. */
export async function ensureEventsStream(nc: NatsConnection): Promise<void> {
  await ensureStream(await jetstreamManager(nc), streamConfigs.events());
}

/** Appends a batch to the execution's event subject (no msg id: a repeat is stored again). */
export async function appendBatch(nc: NatsConnection, batch: EventBatch): Promise<void> {
  await jetstream(nc).publish(subjects.events(batch.executionId), encode(EventBatch, batch));
}

type Details = NonNullable<HistoryEvent["details"]>;

/** An event of `executionId`, stamped `timestamp` (default now). */
export function event(
  executionId: string,
  eventId: number,
  details: Details,
  options: { stateName?: string; timestamp?: Date } = {},
): HistoryEvent {
  return {
    eventId,
    executionId,
    timestamp: options.timestamp ?? new Date(),
    stateName: options.stateName ?? "",
    details,
  };
}

/** A batch of `events` of `executionId`. */
export function batch(executionId: string, events: HistoryEvent[], parent?: ParentRef): EventBatch {
  return { executionId, events, parent };
}

/** Every message stored on `subject` in `stream`, in order. */
export async function messagesOn(
  jsm: JetStreamManager,
  stream: string,
  subject: string,
): Promise<StoredMsg[]> {
  const found: StoredMsg[] = [];
  let seq = 1;
  for (;;) {
    const msg = await jsm.direct.getMessage(stream, { seq, next_by_subj: subject });
    if (!msg) return found;
    found.push(msg);
    seq = msg.seq + 1;
  }
}

/** The commands stored for `executionId`, decoded, with the time the server stored each. */
export async function commandsFor(
  jsm: JetStreamManager,
  executionId: string,
): Promise<{ command: Command; time: Date; msgId: string }[]> {
  const stored = await messagesOn(jsm, streams.commands, subjects.command(executionId));
  return stored.map((msg) => ({
    command: Command.decode(msg.data),
    time: msg.time,
    msgId: msg.header?.get("Nats-Msg-Id") ?? "",
  }));
}

/** Waits until `count` commands are stored for `executionId` and returns them. */
export async function waitForCommands(
  jsm: JetStreamManager,
  executionId: string,
  count = 1,
  timeoutMs = 30_000,
): Promise<{ command: Command; time: Date; msgId: string }[]> {
  return waitFor(
    async () => {
      const found = await commandsFor(jsm, executionId);
      return found.length >= count ? found : undefined;
    },
    { timeoutMs, message: `${count} command(s) for "${executionId}"` },
  );
}

/** Waits until the dispatcher's effects consumer has acked every batch appended so far. */
export async function waitForBatchesDone(jsm: JetStreamManager): Promise<void> {
  await waitFor(
    async () => {
      const info = await jsm.consumers.info(streams.events, consumers.eventEffects);
      return info.num_pending === 0 && info.num_ack_pending === 0;
    },
    { message: "every event batch acked by the dispatcher" },
  );
}
