#!/usr/bin/env node
/**
 * A worker process of the raw step floor: fetches tasks from the floor's work queue, runs the
 * no-op, publishes the result and waits for JetStream to store it, then acks the task. The same
 * duties as a worker-SDK worker, with nothing else. NATS_URL and CONCURRENCY from the environment.
 */
import { jetstream } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { floor } from "./floor-resources";
import type { FloorResult, FloorTask } from "./floor-resources";
import { noop } from "./workflows";

async function main(): Promise<void> {
  const nc = await connect({
    servers: process.env.NATS_URL ?? "nats://127.0.0.1:4222",
    name: "floor-worker",
    // Without it every publish allocates two Errors with stack traces (a quarter of the CPU).
    noAsyncTraces: true,
  });
  const js = jetstream(nc);
  const consumer = await js.consumers.get(floor.tasksStream, floor.workerConsumer);
  const concurrency = Number(process.env.CONCURRENCY ?? 256);
  const messages = await consumer.consume({ max_messages: concurrency });
  let inFlight = 0;
  let slotFreed: (() => void) | undefined;
  process.once("SIGTERM", () => {
    void messages.close().then(() => nc.drain());
  });
  process.stdout.write(`${JSON.stringify({ msg: "floor worker started" })}\n`);
  for await (const msg of messages) {
    while (inFlight >= concurrency) await new Promise<void>((resolve) => (slotFreed = resolve));
    inFlight++;
    void (async () => {
      try {
        const task = JSON.parse(new TextDecoder().decode(msg.data)) as FloorTask;
        const result: FloorResult = { token: task.token, output: noop(task.input) };
        await js.publish(floor.results, JSON.stringify(result), { msgID: task.token });
        msg.ack();
      } catch (err) {
        process.stderr.write(`floor-worker: ${err instanceof Error ? err.message : String(err)}\n`);
        msg.nak(1000);
      } finally {
        inFlight--;
        slotFreed?.();
      }
    })();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`floor-worker: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
