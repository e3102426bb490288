/**
 * The raw step floor: what one engine step must persist, with no engine logic. Per step the
 * driver appends an event (expected last subject sequence + msg id, as the engine's commit does),
 * then compare-and-sets the execution's snapshot in a KV bucket and publishes the task to a
 * work queue, concurrently; a worker process fetches the task, publishes the result and acks;
 * the driver fetches the result, writes the next step and only then acks the result. The last
 * step appends the terminal event and writes the snapshot. Many executions run at once over one
 * connection, their publishes pipelined.
 */
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { ConsumerMessages, JetStreamClient, JsMsg } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import type { KV } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import { deadline, nowMs, toFigures } from "./figures";
import type { ExecutionTiming, RunFigures } from "./figures";
import { createFloorResources, floor } from "./floor-resources";
import type { FloorResult, FloorTask } from "./floor-resources";

interface FloorExecution {
  id: string;
  steps: number;
  /** Steps finished so far. */
  done: number;
  n: number;
  /** Events appended so far (the next event's number is `events + 1`). */
  events: number;
  /** The stream sequence of the last event appended (the expected last subject sequence). */
  lastSeq: number;
  /** The KV revision of the snapshot, once its latest write is acknowledged. */
  revision: Promise<number>;
  timing: ExecutionTiming;
  finish: () => void;
}

const encoder = new TextEncoder();
const json = (value: unknown): Uint8Array => encoder.encode(JSON.stringify(value));

/** The floor's driver; `start()` once, `stop()` at the end. */
export class Floor {
  private js!: JetStreamClient;
  private kv!: KV;
  private messages?: ConsumerMessages;
  private loop?: Promise<void>;
  private readonly executions = new Map<string, FloorExecution>();
  private runs = 0;
  /** The first error met, for the report. */
  firstProblem?: string;

  /** `timeoutMs` bounds each execution: one that does not end in time counts as failed. */
  constructor(
    private readonly nc: NatsConnection,
    private readonly timeoutMs: number,
  ) {}

  /** Creates the floor's streams, consumers and bucket and starts consuming results. */
  async start(): Promise<void> {
    const jsm = await jetstreamManager(this.nc);
    await createFloorResources(jsm);
    this.js = jetstream(this.nc);
    this.kv = await new Kvm(this.js).create(floor.snapshots, { history: 1, storage: "file", replicas: 1 });
    const consumer = await this.js.consumers.get(floor.resultsStream, floor.driverConsumer);
    const messages = await consumer.consume({ max_messages: 1000 });
    this.messages = messages;
    this.loop = (async () => {
      for await (const msg of messages) this.onResult(msg);
    })();
  }

  /** Stops consuming results. */
  async stop(): Promise<void> {
    await this.messages?.close();
    await this.loop;
  }

  /**
   * Runs `executions` chains of `steps` steps at once (input `{n: 0}`), each to `{n: steps}`,
   * and returns their timings, as the engine's runs do.
   */
  chains(executions: number, steps: number, recordSteps = false): Promise<ExecutionTiming[]> {
    const run = ++this.runs;
    return Promise.all(
      Array.from({ length: executions }, (_, i) => this.execute(`r${run}-${i}`, steps, recordSteps)),
    );
  }

  /**
   * The floor of the fan-out: `items` one-step executions at once, then one more step (the
   * join) once all are done. No per-item write of a parent: the floor assumes perfect batching.
   */
  async fanOut(items: number): Promise<RunFigures> {
    const run = ++this.runs;
    const firstStartMs = nowMs();
    const children = await Promise.all(
      Array.from({ length: items }, (_, i) => this.execute(`r${run}-c${i}`, 1, false)),
    );
    const join = await this.execute(`r${run}-join`, 1, false);
    const ok = join.ok === true && children.every((c) => c.ok === true);
    const timing: ExecutionTiming = { startMs: firstStartMs, endMs: join.endMs as number, ok };
    return toFigures([timing], 0, firstStartMs, items + 1);
  }

  private async execute(id: string, steps: number, recordSteps: boolean): Promise<ExecutionTiming> {
    const timing: ExecutionTiming = { startMs: nowMs(), ...(recordSteps ? { scheduledMs: [] } : {}) };
    const ended = new Promise<void>((resolve) => {
      const exec: FloorExecution = {
        id,
        steps,
        done: 0,
        n: 0,
        events: 0,
        lastSeq: 0,
        revision: Promise.resolve(0),
        timing,
        finish: resolve,
      };
      this.executions.set(id, exec);
      this.advance(exec).catch((err: unknown) => this.fail(exec, err));
    });
    const bound = deadline(this.timeoutMs);
    const end = await Promise.race([ended.then(() => true), bound.expired]);
    bound.cancel();
    if (!end) {
      this.executions.delete(id);
      this.firstProblem ??= `${id} did not end within ${this.timeoutMs} ms`;
      timing.ok = false;
    }
    return timing;
  }

  private fail(exec: FloorExecution, err: unknown): void {
    this.firstProblem ??= `${exec.id}: ${err instanceof Error ? err.message : String(err)}`;
    exec.timing.ok = false;
    exec.timing.endMs = nowMs();
    this.executions.delete(exec.id);
    exec.finish();
  }

  /** Persists the transition after `exec.done` steps: the next task, or the end. */
  private async advance(exec: FloorExecution): Promise<void> {
    const last = exec.done === exec.steps;
    if (!last) exec.timing.scheduledMs?.push(nowMs());
    exec.events++;
    const event = { executionId: exec.id, eventId: exec.events, done: exec.done, n: exec.n, last };
    const ack = await this.js.publish(floor.events(exec.id), json(event), {
      msgID: `${exec.id}:${exec.events}`,
      expect: { lastSubjectSequence: exec.lastSeq },
    });
    exec.lastSeq = ack.seq;
    const snapshot = json({ ...event, status: last ? "SUCCEEDED" : "RUNNING", lastSeq: ack.seq });
    const previous = exec.revision;
    exec.revision = previous.then((revision) =>
      revision === 0 ? this.kv.create(exec.id, snapshot) : this.kv.update(exec.id, snapshot, revision),
    );
    if (last) {
      await exec.revision;
      exec.timing.ok = exec.n === exec.steps;
      exec.timing.endMs = nowMs();
      this.executions.delete(exec.id);
      exec.finish();
      return;
    }
    const token = `${exec.id}.${exec.events}`;
    const task: FloorTask = { token, input: { n: exec.n } };
    await Promise.all([exec.revision, this.js.publish(floor.tasks, json(task), { msgID: token })]);
  }

  private onResult(msg: JsMsg): void {
    let result: FloorResult;
    try {
      result = JSON.parse(new TextDecoder().decode(msg.data)) as FloorResult;
    } catch {
      msg.term();
      return;
    }
    const exec = this.executions.get(result.token.slice(0, result.token.lastIndexOf(".")));
    if (!exec || result.token !== `${exec.id}.${exec.events}`) {
      // A duplicate or a result of an earlier run: nothing to do.
      msg.ack();
      return;
    }
    exec.done++;
    exec.n = result.output.n;
    // The result is acked only once what it caused is stored, like the engine's commands.
    this.advance(exec).then(
      () => msg.ack(),
      (err: unknown) => {
        this.fail(exec, err);
        msg.ack();
      },
    );
  }
}
