/**
 * A task's deadline is decided on recorded times: a result the results stream received after the
 * deadline is a States.Timeout even when it reaches the orchestrator before the timeout timer
 * (which fires a grace period after the deadline); one received in time completes the task. The
 * worker here is the test itself, speaking the protocol on the wire, so it can answer exactly
 * when it wants.
 */
import {
  Task,
  TaskResult,
  consumerConfigs,
  consumers,
  decode,
  encode,
  ensureConsumer,
  streams,
  subjects,
} from "@jetflow/contracts";
import { uniqueName } from "@jetflow/testing";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { Consumer } from "@nats-io/jetstream";
import { checkStoredExecution, statusOf, waitForEnd } from "../src";
import { useEngine } from "./fixture";

const fixture = useEngine();
const activity = uniqueName("deadline");
let tasks: Consumer;

beforeAll(async () => {
  const jsm = await jetstreamManager(fixture.nc);
  await ensureConsumer(jsm, streams.tasks, consumerConfigs.task(activity));
  tasks = await jetstream(fixture.nc).consumers.get(streams.tasks, consumers.task(activity));
  const definition = JSON.stringify({
    StartAt: "Work",
    States: {
      Work: {
        Type: "Task",
        Resource: activity,
        TimeoutSeconds: 2,
        Catch: [{ ErrorEquals: ["States.Timeout"], ResultPath: "$.error", Next: "TimedOut" }],
        End: true,
      },
      TimedOut: { Type: "Pass", End: true },
    },
  });
  await fixture.engine.client.registerWorkflow({ name: "deadline", definition, description: "" });
});

/** Starts an execution, takes its task and publishes the result `offsetMs` after its deadline. */
async function answerAt(offsetMs: number): Promise<string> {
  const { executionId } = await fixture.engine.client.startExecution({
    workflowName: "deadline",
    workflowVersion: 0,
    inputJson: "{}",
    executionName: "",
  });
  const msg = await tasks.next({ expires: 30_000 });
  if (!msg) throw new Error("no task delivered");
  const task = decode(Task, "Task", msg.data, msg.subject);
  expect(task.executionId).toBe(executionId);
  const deadlineMs = task.startToCloseDeadline?.getTime() ?? 0;
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, deadlineMs + offsetMs - Date.now())));
  const result: TaskResult = {
    taskToken: task.taskToken,
    outcome: { $case: "outputJson", value: '{"answered":true}' },
    workerId: "late-worker",
    completedTime: new Date(),
  };
  await jetstream(fixture.nc).publish(subjects.result(activity), encode(TaskResult, result), {
    msgID: task.taskToken,
  });
  msg.ack();
  return executionId;
}

it("times out a task whose result was received after its deadline, every time", async () => {
  // 300 ms late: before the timeout timer fires (deadline + 1 s), so the result reaches the
  // orchestrator first; before the fix, this completed the task.
  for (let i = 0; i < 3; i++) {
    const executionId = await answerAt(300);
    const described = await waitForEnd(fixture.engine.client, executionId);
    expect(statusOf(described.execution?.status)).toBe("SUCCEEDED");
    expect(JSON.parse(described.outputJson)).toMatchObject({ error: { Error: "States.Timeout" } });
    await checkStoredExecution(fixture.nc, executionId);
  }
});

it("completes a task whose result was received before its deadline", async () => {
  // Well within the 2 s, even on a busy machine.
  const executionId = await answerAt(-1500);
  const described = await waitForEnd(fixture.engine.client, executionId);
  expect(JSON.parse(described.outputJson)).toEqual({ answered: true });
});
