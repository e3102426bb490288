/**
 * Runs state-manager instances in-process against a test nats-server and talks to them the way
 * the orchestrator and the api-gateway do: core NATS requests carrying protobuf.
 */
import {
  CommitReply,
  CommitRequest,
  ExecutionSnapshot,
  LoadReply,
  LoadRequest,
  buckets,
  decode,
  encode,
  subjects,
} from "@jetflow/contracts";
import type { CommitOk } from "@jetflow/contracts";
import { connectTo } from "@jetflow/testing";
import { Kvm } from "@nats-io/kv";
import type { KV } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import pino from "pino";
import type { Logger } from "pino";
import { DEFAULT_CACHE_ENTRIES, DEFAULT_MAX_SNAPSHOT_BYTES } from "../src/config";
import type { Config } from "../src/config";
import { createStateManager } from "../src/nats-adapter";
import type { StateManager } from "../src/nats-adapter";

/** Requests wait long: two shared cores may be busy with other test files. */
export const REQUEST_TIMEOUT_MS = 30_000;

/** A running in-process state-manager with its own connection. */
export interface RunningStateManager {
  stateManager: StateManager;
  nc: NatsConnection;
  /** Stops the component, then closes its connection. Safe to call twice. */
  stop(): Promise<void>;
}

/** Starts a state-manager on its own connection to `url`; `log` defaults to one at TEST_LOG_LEVEL (silent). */
export async function startStateManager(
  url: string,
  config: Partial<Pick<Config, "maxSnapshotBytes" | "cacheEntries" | "snapshotEveryEvents">> = {},
  log: Logger = pino({ level: process.env["TEST_LOG_LEVEL"] ?? "silent" }),
): Promise<RunningStateManager> {
  const nc = await connectTo(url, { name: "state-manager-under-test" });
  const stateManager = createStateManager({
    nc,
    log,
    config: {
      replicas: 1,
      maxSnapshotBytes: config.maxSnapshotBytes ?? DEFAULT_MAX_SNAPSHOT_BYTES,
      cacheEntries: config.cacheEntries ?? DEFAULT_CACHE_ENTRIES,
      // Every commit writes its snapshot unless a test asks for the deferral.
      snapshotEveryEvents: config.snapshotEveryEvents ?? 0,
    },
  });
  let stopping: Promise<void> | undefined;
  try {
    await stateManager.start();
  } catch (err) {
    await nc.close();
    throw err;
  }
  return {
    stateManager,
    nc,
    stop: () => {
      stopping ??= (async () => {
        try {
          await stateManager.stop();
        } finally {
          await nc.close();
        }
      })();
      return stopping;
    },
  };
}

/** Sends a commit request and decodes the reply. */
export async function commit(nc: NatsConnection, request: CommitRequest): Promise<CommitReply> {
  const reply = await nc.request(subjects.stateCommit, encode(CommitRequest, request), {
    timeout: REQUEST_TIMEOUT_MS,
  });
  return decode(CommitReply, "CommitReply", reply.data, reply.subject);
}

/** Sends a commit request and returns its `ok` value, failing the test on anything else. */
export async function commitOk(nc: NatsConnection, request: CommitRequest): Promise<CommitOk> {
  const reply = await commit(nc, request);
  if (reply.result?.$case !== "ok") throw new Error(`expected ok, got ${JSON.stringify(reply.result)}`);
  return reply.result.value;
}

/** Sends a load request and decodes the reply. */
export async function load(nc: NatsConnection, executionId: string): Promise<LoadReply> {
  const reply = await nc.request(subjects.stateLoad, encode(LoadRequest, { executionId }), {
    timeout: REQUEST_TIMEOUT_MS,
  });
  return decode(LoadReply, "LoadReply", reply.data, reply.subject);
}

/** Opens the instances bucket (created by the state-manager). */
export function openInstances(nc: NatsConnection): Promise<KV> {
  return new Kvm(nc).open(buckets.instances);
}

/** The snapshot stored for `executionId` and its revision, straight from the bucket. */
export async function storedSnapshot(
  kv: KV,
  executionId: string,
): Promise<{ snapshot: ExecutionSnapshot; revision: number } | undefined> {
  const entry = await kv.get(executionId);
  if (entry === null || entry.operation !== "PUT") return undefined;
  return { snapshot: ExecutionSnapshot.decode(entry.value), revision: entry.revision };
}
