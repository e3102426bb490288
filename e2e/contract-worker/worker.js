#!/usr/bin/env node
// A jetflow worker written from docs/task-protocol.md and proto/jetflow/v1/task.proto alone:
// plain JavaScript, protobufjs (loading the .proto at run time) and NATS.js; no @jetflow package
// and nothing from the engine's TypeScript. It proves the contract is enough.
//
// Usage: node worker.js [handlers-module]   (default: the HANDLERS environment variable)
//   the module exports `handlers`: { [activityName]: async (input, ctx) => output }
// Environment: NATS_URL (default nats://127.0.0.1:4222), PROTO_DIR (the directory holding
// jetflow/v1/task.proto). Prints "contract worker started" once bound; SIGTERM stops it.
"use strict";

const { hostname } = require("node:os");
const { join, resolve } = require("node:path");
const protobuf = require("protobufjs");
const { connect } = require("@nats-io/transport-node");
const { jetstream, jetstreamManager, AckPolicy, DeliverPolicy } = require("@nats-io/jetstream");

const CONCURRENCY = 10;
const ACK_WAIT_MS = 30_000;
const STOP_TIMEOUT_MS = 10_000;
const workerId = `contract-worker-${hostname()}-${process.pid}`;

// Encoding: binary protobuf of package jetflow.v1 (task-protocol.md, "Encoding").
const protoRoot = protobuf.loadSync(join(process.env.PROTO_DIR ?? "proto", "jetflow/v1/task.proto"));
const Task = protoRoot.lookupType("jetflow.v1.Task");
const TaskResult = protoRoot.lookupType("jetflow.v1.TaskResult");
const TaskHeartbeatReply = protoRoot.lookupType("jetflow.v1.TaskHeartbeatReply");
const TaskCancellation = protoRoot.lookupType("jetflow.v1.TaskCancellation");
const DeadLetter = protoRoot.lookupType("jetflow.v1.DeadLetter");

const encode = (type, object) => type.encode(type.fromObject(object)).finish();
const decode = (type, bytes) => type.toObject(type.decode(bytes), { longs: Number, defaults: true });
const timestamp = (ms) => ({ seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1_000_000 });
const toMs = (ts) => (ts ? Number(ts.seconds) * 1000 + Math.floor(ts.nanos / 1_000_000) : undefined);

// Names (task-protocol.md, "Names"): letters, digits, "_" and "-" stay; every other byte of the
// UTF-8 name becomes "~" and two uppercase hex digits.
function activityToken(name) {
  let token = "";
  for (const byte of Buffer.from(name, "utf8")) {
    const c = String.fromCharCode(byte);
    token += /[A-Za-z0-9_-]/.test(c) ? c : `~${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return token;
}
function consumerName(name) {
  const plain = `tasks-${activityToken(name)}`;
  if (Buffer.byteLength(plain) <= 200) return plain;
  return `tasks-~h${require("node:crypto").createHash("sha256").update(name, "utf8").digest("hex").slice(0, 32)}`;
}

const GENERIC_ERRORS = new Set(["Error", "TypeError", "RangeError", "SyntaxError", "ReferenceError"]);
function failureOf(err) {
  const named = err instanceof Error && err.name && !GENERIC_ERRORS.has(err.name);
  return {
    error: named ? err.name.slice(0, 256) : "States.TaskFailed",
    cause: String(err instanceof Error ? err.message : err).slice(0, 32_768),
  };
}

async function main() {
  const { handlers } = require(resolve(process.argv[2] ?? process.env.HANDLERS ?? ""));
  const nc = await connect({ servers: (process.env.NATS_URL ?? "nats://127.0.0.1:4222").split(",") });
  const js = jetstream(nc);
  const jsm = await jetstreamManager(nc);
  const runners = [];
  for (const [activity, handler] of Object.entries(handlers)) {
    runners.push(await startActivity({ nc, js, jsm, activity, handler }));
  }
  process.stdout.write("contract worker started\n");
  process.once("SIGTERM", () => {
    void Promise.all(runners.map((r) => r.stop()))
      .then(() => nc.drain())
      .then(() => process.exit(0));
  });
}

async function startActivity({ nc, js, jsm, activity, handler }) {
  const A = activityToken(activity);
  const durable = consumerName(activity);
  // The task consumer (task-protocol.md, "The task consumer"): bind; create it when missing.
  let ackWaitMs = ACK_WAIT_MS;
  try {
    ackWaitMs = (await jsm.consumers.info("JETFLOW_TASKS", durable)).config.ack_wait / 1_000_000;
  } catch {
    await jsm.consumers.add("JETFLOW_TASKS", {
      durable_name: durable,
      filter_subject: `jetflow.tasks.${A}`,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: ACK_WAIT_MS * 1_000_000,
      max_deliver: -1,
      max_ack_pending: 20_000,
    });
  }
  const consumer = await js.consumers.get("JETFLOW_TASKS", durable);
  const running = new Map(); // token -> { msg, controller, abandoned, done }
  let stopping = false;
  let wake = () => {};

  // Cancellation broadcasts (task-protocol.md, "Cancellation").
  const cancelSub = nc.subscribe(`jetflow.cancel.${A}`, {
    callback: (err, msg) => {
      if (err) return;
      for (const token of decode(TaskCancellation, msg.data).taskTokens) {
        running.get(token)?.controller.abort("cancelled");
      }
    },
  });

  async function handle(msg) {
    // Decode, or park on the dead-letter subject and ack (task-protocol.md, "Dead letters").
    let task;
    try {
      task = decode(Task, msg.data);
      if (task.taskToken === "") throw new Error("task has no task_token");
    } catch (err) {
      try {
        await js.publish(
          "jetflow.dlq.worker",
          encode(DeadLetter, {
            service: "worker",
            subject: msg.subject,
            data: msg.data,
            reason: String(err.message),
            parkedTime: timestamp(Date.now()),
          }),
        );
        await msg.ackAck();
      } catch {
        msg.nak(30_000);
      }
      return;
    }
    const token = task.taskToken;
    const entry = { msg, controller: new AbortController(), abandoned: false };
    running.set(token, entry);
    // In progress more often than the ack wait (task-protocol.md, "Keep it alive").
    const keepAlive = setInterval(() => entry.abandoned || msg.working(), Math.floor(ackWaitMs / 3));
    const deadlineMs = toMs(task.startToCloseDeadline);
    const deadlineTimer =
      deadlineMs === undefined
        ? undefined
        : setTimeout(() => entry.controller.abort("deadline"), Math.max(0, deadlineMs - Date.now()));
    const ctx = {
      taskToken: token,
      executionId: task.executionId,
      rootExecutionId: task.rootExecutionId,
      stateName: task.stateName,
      activity: task.activity,
      workflowName: task.workflowName,
      attempt: task.attempt,
      deadline: deadlineMs === undefined ? undefined : new Date(deadlineMs),
      heartbeatIntervalSeconds: task.heartbeatIntervalSeconds,
      signal: entry.controller.signal,
      // Heartbeats (task-protocol.md, "Heartbeats"): a core request; the reply may ask to cancel.
      heartbeat: async () => {
        msg.working();
        try {
          const reply = await nc.request(
            `jetflow.heartbeats.${A}`,
            encode(TaskResult, {
              taskToken: token,
              heartbeat: {},
              workerId,
              completedTime: timestamp(Date.now()),
            }),
            { timeout: 5_000 },
          );
          if (decode(TaskHeartbeatReply, reply.data).cancelRequested) entry.controller.abort("cancelled");
        } catch {
          // Tried again at the next heartbeat.
        }
      },
    };
    let outcome;
    try {
      const output = await handler(JSON.parse(task.inputJson), ctx);
      outcome = { outputJson: JSON.stringify(output ?? null) };
    } catch (err) {
      outcome = { failure: failureOf(err) };
    } finally {
      clearInterval(keepAlive);
      clearTimeout(deadlineTimer);
    }
    // The deadline rule: past it the attempt is States.Timeout, whatever the handler returned.
    if (
      entry.controller.signal.reason === "deadline" ||
      (deadlineMs !== undefined && Date.now() >= deadlineMs)
    ) {
      outcome = { failure: { error: "States.Timeout", cause: `task "${token}" passed its deadline` } };
    }
    try {
      if (entry.abandoned) return;
      // Publish the result with Nats-Msg-Id = token, wait for the ack, only then ack the task.
      const result = encode(TaskResult, {
        taskToken: token,
        ...outcome,
        workerId,
        completedTime: timestamp(Date.now()),
      });
      for (;;) {
        try {
          await js.publish(`jetflow.results.${A}`, result, { msgID: token });
          break;
        } catch {
          if (entry.abandoned || nc.isClosed()) return;
          await new Promise((r) => setTimeout(r, 500));
        }
      }
      if (!entry.abandoned) msg.ack();
    } finally {
      running.delete(token);
      wake();
    }
  }

  const loop = (async () => {
    while (!stopping) {
      const free = CONCURRENCY - running.size;
      if (free <= 0) {
        await new Promise((r) => (wake = r));
        continue;
      }
      try {
        // Ask only for as many tasks as there are free slots (task-protocol.md, "Fetch").
        const batch = await consumer.fetch({ max_messages: free, expires: 2_000 });
        for await (const msg of batch) {
          if (stopping) msg.nak();
          else void handle(msg);
        }
      } catch {
        if (!stopping) await new Promise((r) => setTimeout(r, 500));
      }
    }
  })();

  return {
    async stop() {
      // Shutting down: stop fetching, wait a while, NAK what is still running.
      stopping = true;
      wake();
      await loop;
      const until = Date.now() + STOP_TIMEOUT_MS;
      while (running.size > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
      for (const entry of running.values()) {
        entry.abandoned = true;
        entry.msg.nak();
        entry.controller.abort("shutdown");
      }
      cancelSub.unsubscribe();
      await nc.flush();
    },
  };
}

main().catch((err) => {
  process.stderr.write(`contract worker failed: ${err.stack ?? err}\n`);
  process.exit(1);
});
