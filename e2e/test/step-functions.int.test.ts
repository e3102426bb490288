// The Step Functions API against the engine running as processes, driven only by AWS's own
// JavaScript client (@aws-sdk/client-sfn) and the AWS CLI: an activity worker written with the
// client, executions, listings, history, stop, every error shape, and SigV4 with access keys.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import {
  CreateActivityCommand,
  CreateStateMachineCommand,
  DeleteActivityCommand,
  DeleteStateMachineCommand,
  DescribeActivityCommand,
  DescribeExecutionCommand,
  DescribeStateMachineCommand,
  DescribeStateMachineForExecutionCommand,
  GetActivityTaskCommand,
  GetExecutionHistoryCommand,
  ListActivitiesCommand,
  ListExecutionsCommand,
  ListStateMachinesCommand,
  RedriveExecutionCommand,
  SFNClient,
  SendTaskFailureCommand,
  SendTaskHeartbeatCommand,
  SendTaskSuccessCommand,
  StartExecutionCommand,
  StopExecutionCommand,
  UpdateStateMachineCommand,
  ValidateStateMachineDefinitionCommand,
} from "@aws-sdk/client-sfn";
import type { HistoryEvent } from "@aws-sdk/client-sfn";
import { consumers, streams } from "@jetflow/contracts";
import { namedExecutionId } from "@jetflow/engine";
import { jetstreamManager } from "@nats-io/jetstream";
import { freePorts, uniqueName, waitFor } from "@jetflow/testing";
import { ManagedProcess } from "../src";
import { useEngine } from "./fixture";

const fixture = useEngine({ env: { SFN_ACTIVITY_POLL_MS: "2000" } });
const ROOT = resolve(__dirname, "../..");
const ROLE = "arn:aws:iam::000000000000:role/any";

function clientFor(endpoint: string, secretAccessKey = "dummy", accessKeyId = "AKIDDUMMY"): SFNClient {
  return new SFNClient({
    endpoint,
    region: "us-east-1",
    credentials: { accessKeyId, secretAccessKey },
    maxAttempts: 1,
  });
}

let sfn: SFNClient;
beforeAll(() => {
  sfn = clientFor(fixture.engine.sfnUrl);
});
afterAll(() => sfn?.destroy());

/** The error a call fails with: its name (`__type`) and HTTP status. */
async function failure(
  promise: Promise<unknown>,
): Promise<{ name: string; status: number; message: string }> {
  try {
    await promise;
  } catch (err) {
    const e = err as { name: string; message: string; $metadata?: { httpStatusCode?: number } };
    return { name: e.name, status: e.$metadata?.httpStatusCode ?? 0, message: e.message };
  }
  throw new Error("expected the call to fail");
}

const activityArn = (name: string) => `arn:aws:states:us-east-1:000000000000:activity:${name}`;

function chargeMachine(activity: string): string {
  return JSON.stringify({
    StartAt: "Charge",
    States: {
      Charge: {
        Type: "Task",
        Resource: activityArn(activity),
        TimeoutSeconds: 60,
        HeartbeatSeconds: 30,
        Catch: [{ ErrorEquals: ["Declined"], ResultPath: "$.error", Next: "Refused" }],
        Next: "Done",
      },
      Done: { Type: "Pass", End: true },
      Refused: { Type: "Fail", Error: "PaymentDeclined", Cause: "the card was declined" },
    },
  });
}

/** An activity worker written only with the AWS client: poll, heartbeat, succeed or fail. */
function runSdkWorker(client: SFNClient, arn: string): { stop: () => Promise<void>; handled: () => number } {
  let running = true;
  let handled = 0;
  const loop = (async () => {
    while (running) {
      const task = await client.send(
        new GetActivityTaskCommand({ activityArn: arn, workerName: "sdk-worker" }),
      );
      if (task.taskToken === undefined) continue;
      const input = JSON.parse(task.input ?? "{}") as { amount: number };
      await client.send(new SendTaskHeartbeatCommand({ taskToken: task.taskToken }));
      if (input.amount > 100) {
        await client.send(
          new SendTaskFailureCommand({ taskToken: task.taskToken, error: "Declined", cause: "over 100" }),
        );
      } else {
        await client.send(
          new SendTaskSuccessCommand({
            taskToken: task.taskToken,
            output: JSON.stringify({ charged: input.amount }),
          }),
        );
      }
      handled++;
    }
  })();
  return {
    handled: () => handled,
    stop: async () => {
      running = false;
      await loop;
    },
  };
}

async function waitForStatus(executionArn: string, status: string) {
  let last = "";
  await waitFor(async () => {
    const d = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    last = d.status ?? "";
    return last === status;
  }, 30_000).catch(() => {
    throw new Error(`execution ${executionArn} is ${last}, expected ${status}`);
  });
  return sfn.send(new DescribeExecutionCommand({ executionArn }));
}

describe("the Step Functions API with AWS's JavaScript client", () => {
  const activity = uniqueName("charge");
  const machine = uniqueName("payments");
  let machineArn = "";
  let worker: ReturnType<typeof runSdkWorker> | undefined;
  afterAll(async () => worker?.stop());

  it("declares, describes and lists activities", async () => {
    const created = await sfn.send(new CreateActivityCommand({ name: activity }));
    expect(created.activityArn).toBe(activityArn(activity));
    const again = await sfn.send(new CreateActivityCommand({ name: activity }));
    expect(again.creationDate).toEqual(created.creationDate);
    const described = await sfn.send(new DescribeActivityCommand({ activityArn: activityArn(activity) }));
    expect(described.name).toBe(activity);
    await sfn.send(new CreateActivityCommand({ name: `${activity}-b` }));
    const names: string[] = [];
    let nextToken: string | undefined;
    do {
      const page = await sfn.send(new ListActivitiesCommand({ maxResults: 1, nextToken }));
      expect(page.activities?.length).toBeLessThanOrEqual(1);
      names.push(...(page.activities ?? []).map((a) => a.name ?? ""));
      nextToken = page.nextToken;
    } while (nextToken !== undefined);
    expect(names).toEqual(expect.arrayContaining([activity, `${activity}-b`]));
  });

  it("runs an activity-based state machine with a worker written with the client", async () => {
    const created = await sfn.send(
      new CreateStateMachineCommand({ name: machine, definition: chargeMachine(activity), roleArn: ROLE }),
    );
    machineArn = created.stateMachineArn ?? "";
    expect(machineArn).toBe(`arn:aws:states:us-east-1:000000000000:stateMachine:${machine}`);
    worker = runSdkWorker(sfn, activityArn(activity));

    const ok = await sfn.send(
      new StartExecutionCommand({ stateMachineArn: machineArn, name: "ok-1", input: '{"amount":40}' }),
    );
    expect(ok.executionArn).toBe(`arn:aws:states:us-east-1:000000000000:execution:${machine}:ok-1`);
    const declined = await sfn.send(
      new StartExecutionCommand({ stateMachineArn: machineArn, input: '{"amount":400}' }),
    );

    const done = await waitForStatus(ok.executionArn ?? "", "SUCCEEDED");
    expect(JSON.parse(done.output ?? "")).toEqual({ charged: 40 });
    expect(done.stateMachineArn).toBe(machineArn);
    expect(done.name).toBe("ok-1");
    expect(done.stopDate).toBeInstanceOf(Date);
    const failed = await waitForStatus(declined.executionArn ?? "", "FAILED");
    expect(failed).toMatchObject({ error: "PaymentDeclined", cause: "the card was declined" });
    expect(worker.handled()).toBeGreaterThanOrEqual(2);

    // A named start is idempotent with the same input and refused with another.
    const same = await sfn.send(
      new StartExecutionCommand({ stateMachineArn: machineArn, name: "ok-1", input: '{"amount":40}' }),
    );
    expect(same.executionArn).toBe(ok.executionArn);
    expect(
      await failure(
        sfn.send(
          new StartExecutionCommand({ stateMachineArn: machineArn, name: "ok-1", input: '{"amount":1}' }),
        ),
      ),
    ).toMatchObject({ name: "ExecutionAlreadyExists", status: 400 });
  });

  it("lists executions page by page and by status", async () => {
    const arns: string[] = [];
    let nextToken: string | undefined;
    do {
      const page = await sfn.send(
        new ListExecutionsCommand({ stateMachineArn: machineArn, maxResults: 1, nextToken }),
      );
      expect(page.executions?.length).toBeLessThanOrEqual(1);
      arns.push(...(page.executions ?? []).map((e) => e.executionArn ?? ""));
      nextToken = page.nextToken;
    } while (nextToken !== undefined);
    expect(arns).toHaveLength(2);
    const succeeded = await sfn.send(
      new ListExecutionsCommand({ stateMachineArn: machineArn, statusFilter: "SUCCEEDED" }),
    );
    expect(succeeded.executions?.map((e) => [e.name, e.status])).toEqual([["ok-1", "SUCCEEDED"]]);
  });

  it("reads the history in Step Functions' event shapes, forwards, backwards and in pages", async () => {
    const executionArn = `arn:aws:states:us-east-1:000000000000:execution:${machine}:ok-1`;
    const all = await sfn.send(new GetExecutionHistoryCommand({ executionArn }));
    const events = all.events ?? [];
    expect(events.map((e) => e.type)).toEqual([
      "ExecutionStarted",
      "TaskStateEntered",
      "ActivityScheduled",
      "ActivityStarted",
      "ActivitySucceeded",
      "TaskStateExited",
      "PassStateEntered",
      "PassStateExited",
      "ExecutionSucceeded",
    ]);
    const byType = (type: string) => events.find((e) => e.type === type) as HistoryEvent;
    expect(byType("ExecutionStarted").executionStartedEventDetails).toMatchObject({
      input: '{"amount":40}',
      inputDetails: { truncated: false },
      roleArn: "arn:aws:iam::000000000000:role/jetflow",
    });
    expect(byType("ActivityScheduled").activityScheduledEventDetails).toMatchObject({
      resource: activityArn(activity),
      timeoutInSeconds: 60,
      heartbeatInSeconds: 30,
    });
    expect(byType("ActivityStarted").activityStartedEventDetails?.workerName).toBe("sdk-worker");
    expect(JSON.parse(byType("ActivitySucceeded").activitySucceededEventDetails?.output ?? "")).toEqual({
      charged: 40,
    });
    expect(byType("TaskStateEntered").stateEnteredEventDetails?.name).toBe("Charge");
    for (const [i, e] of events.entries()) {
      if (i > 0) expect(e.previousEventId).toBe(events[i - 1]?.id);
      expect(e.timestamp).toBeInstanceOf(Date);
    }

    const paged: HistoryEvent[] = [];
    let nextToken: string | undefined;
    do {
      const page = await sfn.send(
        new GetExecutionHistoryCommand({ executionArn, maxResults: 4, reverseOrder: true, nextToken }),
      );
      paged.push(...(page.events ?? []));
      nextToken = page.nextToken;
    } while (nextToken !== undefined);
    expect(paged.map((e) => e.id)).toEqual(events.map((e) => e.id).reverse());
  });

  it("numbers every event of a history with retries, Wait, Map, Parallel and Catch without a gap", async () => {
    const name = uniqueName("everything");
    const { stateMachineArn } = await sfn.send(
      new CreateStateMachineCommand({
        name,
        roleArn: ROLE,
        definition: JSON.stringify({
          StartAt: "Flaky",
          States: {
            Flaky: {
              Type: "Task",
              Resource: "flaky",
              Parameters: { succeedOn: 2 },
              Retry: [{ ErrorEquals: ["Flaky"], IntervalSeconds: 1, MaxAttempts: 3, BackoffRate: 1 }],
              ResultPath: null,
              Next: "Pause",
            },
            Pause: { Type: "Wait", Seconds: 1, Next: "Fan" },
            Fan: {
              Type: "Map",
              ItemsPath: "$.items",
              ItemProcessor: {
                StartAt: "Inc",
                States: { Inc: { Type: "Task", Resource: "inc", End: true } },
              },
              ResultPath: "$.mapped",
              Next: "Both",
            },
            Both: {
              Type: "Parallel",
              Branches: [
                { StartAt: "Echo", States: { Echo: { Type: "Task", Resource: "echo", End: true } } },
                { StartAt: "Same", States: { Same: { Type: "Pass", End: true } } },
              ],
              ResultPath: "$.both",
              Next: "Guard",
            },
            Guard: {
              Type: "Task",
              Resource: "fail",
              Parameters: { error: "Boom", cause: "on purpose" },
              Catch: [{ ErrorEquals: ["Boom"], ResultPath: "$.caught", Next: "Done" }],
              End: true,
            },
            Done: { Type: "Pass", End: true },
          },
        }),
      }),
    );
    const { executionArn = "" } = await sfn.send(
      new StartExecutionCommand({ stateMachineArn, input: JSON.stringify({ items: [{ n: 1 }, { n: 2 }] }) }),
    );
    await waitForStatus(executionArn, "SUCCEEDED");
    const events =
      (await sfn.send(new GetExecutionHistoryCommand({ executionArn, maxResults: 1000 }))).events ?? [];
    expect(events.map((e) => e.id)).toEqual(events.map((_, i) => i + 1));
    expect(events.map((e) => e.previousEventId)).toEqual(events.map((_, i) => i));
    const types = new Set(events.map((e) => e.type));
    for (const type of [
      "ActivityFailed",
      "TaskRetryScheduled",
      "WaitStateEntered",
      "WaitTimerStarted",
      "WaitTimerFinished",
      "MapStateStarted",
      "MapIterationSucceeded",
      "ParallelStateStarted",
      "ParallelBranchStarted",
      "ParallelStateSucceeded",
      "ExecutionSucceeded",
    ]) {
      expect(types).toContain(type);
    }
    // Pages, either way, cut the same events.
    for (const reverseOrder of [false, true]) {
      const paged: HistoryEvent[] = [];
      let nextToken: string | undefined;
      do {
        const page = await sfn.send(
          new GetExecutionHistoryCommand({ executionArn, maxResults: 3, reverseOrder, nextToken }),
        );
        expect(page.events?.length).toBeLessThanOrEqual(3);
        paged.push(...(page.events ?? []));
        nextToken = page.nextToken;
      } while (nextToken !== undefined);
      expect(paged.map((e) => e.id)).toEqual(
        reverseOrder ? events.map((e) => e.id).reverse() : events.map((e) => e.id),
      );
    }
  });

  it("stops an execution, which ends ABORTED", async () => {
    const idle = uniqueName("idle");
    const created = await sfn.send(
      new CreateStateMachineCommand({
        name: uniqueName("waits"),
        definition: chargeMachine(idle),
        roleArn: ROLE,
      }),
    );
    const started = await sfn.send(
      new StartExecutionCommand({ stateMachineArn: created.stateMachineArn, input: '{"amount":1}' }),
    );
    const stop = await sfn.send(
      new StopExecutionCommand({
        executionArn: started.executionArn,
        error: "Operator",
        cause: "no longer needed",
      }),
    );
    expect(stop.stopDate).toBeInstanceOf(Date);
    const aborted = await waitForStatus(started.executionArn ?? "", "ABORTED");
    expect(aborted).toMatchObject({ error: "Operator", cause: "no longer needed" });
    const history = await sfn.send(
      new GetExecutionHistoryCommand({
        executionArn: started.executionArn,
        reverseOrder: true,
        maxResults: 1,
      }),
    );
    expect(history.events?.[0]).toMatchObject({
      type: "ExecutionAborted",
      executionAbortedEventDetails: { error: "Operator", cause: "no longer needed" },
    });
  });

  it("describes, lists, updates, validates and deletes state machines", async () => {
    const described = await sfn.send(new DescribeStateMachineCommand({ stateMachineArn: machineArn }));
    expect(described).toMatchObject({ name: machine, status: "ACTIVE", type: "STANDARD", revisionId: "1" });
    expect(JSON.parse(described.definition ?? "")).toEqual(JSON.parse(chargeMachine(activity)));
    const forExecution = await sfn.send(
      new DescribeStateMachineForExecutionCommand({
        executionArn: `arn:aws:states:us-east-1:000000000000:execution:${machine}:ok-1`,
      }),
    );
    expect(forExecution).toMatchObject({ stateMachineArn: machineArn, name: machine, revisionId: "1" });

    const names: string[] = [];
    let nextToken: string | undefined;
    do {
      const page = await sfn.send(new ListStateMachinesCommand({ maxResults: 1, nextToken }));
      names.push(...(page.stateMachines ?? []).map((m) => m.name ?? ""));
      nextToken = page.nextToken;
    } while (nextToken !== undefined);
    expect(names).toContain(machine);

    const updated = await sfn.send(
      new UpdateStateMachineCommand({
        stateMachineArn: machineArn,
        definition: chargeMachine(`${activity}-b`),
      }),
    );
    expect(updated.revisionId).toBe("2");
    expect(
      (await sfn.send(new DescribeStateMachineCommand({ stateMachineArn: machineArn }))).revisionId,
    ).toBe("2");

    const ok = await sfn.send(
      new ValidateStateMachineDefinitionCommand({ definition: chargeMachine(activity) }),
    );
    expect(ok).toMatchObject({ result: "OK", diagnostics: [] });
    const bad = await sfn.send(
      new ValidateStateMachineDefinitionCommand({
        definition: JSON.stringify({ StartAt: "Nowhere", States: { A: { Type: "Pass", End: true } } }),
      }),
    );
    expect(bad.result).toBe("FAIL");
    expect(bad.diagnostics?.[0]).toMatchObject({ severity: "ERROR" });

    const doomed = uniqueName("doomed");
    const doomedArn = (
      await sfn.send(
        new CreateStateMachineCommand({ name: doomed, definition: chargeMachine(activity), roleArn: ROLE }),
      )
    ).stateMachineArn;
    await sfn.send(new DeleteStateMachineCommand({ stateMachineArn: doomedArn }));
    expect(
      await failure(sfn.send(new DescribeStateMachineCommand({ stateMachineArn: doomedArn }))),
    ).toMatchObject({
      name: "StateMachineDoesNotExist",
      status: 400,
    });
    expect(await failure(sfn.send(new StartExecutionCommand({ stateMachineArn: doomedArn })))).toMatchObject({
      name: "StateMachineDoesNotExist",
    });
    const listed = await sfn.send(new ListStateMachinesCommand({ maxResults: 1000 }));
    expect(listed.stateMachines?.map((m) => m.name)).not.toContain(doomed);
    // Created again under the same name, it is back.
    await sfn.send(
      new CreateStateMachineCommand({ name: doomed, definition: chargeMachine(activity), roleArn: ROLE }),
    );
    expect((await sfn.send(new DescribeStateMachineCommand({ stateMachineArn: doomedArn }))).status).toBe(
      "ACTIVE",
    );
  });

  it("completes a task by token on either API", async () => {
    const external = uniqueName("external");
    const created = await sfn.send(
      new CreateStateMachineCommand({
        name: uniqueName("callback"),
        definition: chargeMachine(external),
        roleArn: ROLE,
      }),
    );
    const started = await sfn.send(
      new StartExecutionCommand({ stateMachineArn: created.stateMachineArn, name: "by-token", input: "{}" }),
    );
    // The token as jetflow's gRPC API shows it, completed through the Step Functions API.
    const executionId = namedExecutionId(created.stateMachineArn?.split(":").pop() ?? "", "by-token");
    let token = "";
    await waitFor(async () => {
      const history = await fixture.engine.client.getExecutionHistory({
        executionId,
        pageSize: 0,
        pageToken: "",
        reverseOrder: false,
      });
      const scheduled = history.events.find((e) => e.details?.$case === "taskScheduled");
      token = scheduled?.details?.$case === "taskScheduled" ? scheduled.details.value.taskToken : "";
      return token !== "";
    }, 10_000);
    await sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: '{"via":"sfn"}' }));
    const done = await waitForStatus(started.executionArn ?? "", "SUCCEEDED");
    expect(JSON.parse(done.output ?? "")).toEqual({ via: "sfn" });
    // Now the attempt is over: its token is refused as AWS refuses a finished task's.
    expect(await failure(sfn.send(new SendTaskHeartbeatCommand({ taskToken: token })))).toMatchObject({
      name: "TaskTimedOut",
      status: 400,
    });
    expect(
      await failure(sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: "{}" }))),
    ).toMatchObject({ name: "TaskTimedOut" });
  });

  it("answers every error with AWS's type and HTTP status", async () => {
    const missingExecution = `arn:aws:states:us-east-1:000000000000:execution:${machine}:nobody`;
    // One at a time: a slow answer on a busy machine must not leave the others rejected unhandled.
    const cases: [() => Promise<unknown>, string][] = [
      [
        () => sfn.send(new DescribeExecutionCommand({ executionArn: missingExecution })),
        "ExecutionDoesNotExist",
      ],
      [
        () => sfn.send(new GetExecutionHistoryCommand({ executionArn: missingExecution })),
        "ExecutionDoesNotExist",
      ],
      [() => sfn.send(new StopExecutionCommand({ executionArn: missingExecution })), "ExecutionDoesNotExist"],
      [
        () => sfn.send(new RedriveExecutionCommand({ executionArn: missingExecution })),
        "ExecutionDoesNotExist",
      ],
      [
        () =>
          sfn.send(
            new RedriveExecutionCommand({
              executionArn: `arn:aws:states:us-east-1:000000000000:execution:${machine}:ok-1`,
            }),
          ),
        "ExecutionNotRedrivable",
      ],
      [() => sfn.send(new DescribeExecutionCommand({ executionArn: "not-an-arn" })), "InvalidArn"],
      [
        () =>
          sfn.send(
            new DescribeStateMachineCommand({
              stateMachineArn: machineArn.replace("stateMachine", "activity"),
            }),
          ),
        "InvalidArn",
      ],
      [
        () => sfn.send(new DescribeStateMachineCommand({ stateMachineArn: `${machineArn}-missing` })),
        "StateMachineDoesNotExist",
      ],
      [
        () => sfn.send(new StartExecutionCommand({ stateMachineArn: `${machineArn}-missing` })),
        "StateMachineDoesNotExist",
      ],
      [
        () =>
          sfn.send(
            new CreateStateMachineCommand({
              name: uniqueName("bad"),
              definition: '{"StartAt":"X","States":{}}',
              roleArn: ROLE,
            }),
          ),
        "InvalidDefinition",
      ],
      [
        () =>
          sfn.send(
            new CreateStateMachineCommand({
              name: machine,
              definition: chargeMachine("other"),
              roleArn: ROLE,
            }),
          ),
        "StateMachineAlreadyExists",
      ],
      [
        () => sfn.send(new CreateStateMachineCommand({ name: "has space", definition: "{}", roleArn: ROLE })),
        "InvalidName",
      ],
      [() => sfn.send(new CreateActivityCommand({ name: "bad{name}" })), "InvalidName"],
      [
        () => sfn.send(new StartExecutionCommand({ stateMachineArn: machineArn, name: "a b" })),
        "InvalidName",
      ],
      [
        () => sfn.send(new StartExecutionCommand({ stateMachineArn: machineArn, input: "{not json" })),
        "InvalidExecutionInput",
      ],
      [
        () => sfn.send(new DescribeActivityCommand({ activityArn: activityArn("never-declared") })),
        "ActivityDoesNotExist",
      ],
      [
        () => sfn.send(new GetActivityTaskCommand({ activityArn: activityArn("never-declared") })),
        "ActivityDoesNotExist",
      ],
      [() => sfn.send(new SendTaskSuccessCommand({ taskToken: "garbage", output: "{}" })), "InvalidToken"],
      [
        () => sfn.send(new SendTaskSuccessCommand({ taskToken: `n-${"0".repeat(40)}.3`, output: "{}" })),
        "TaskDoesNotExist",
      ],
      [
        () => sfn.send(new SendTaskSuccessCommand({ taskToken: `n-${"0".repeat(40)}.3`, output: "{nope" })),
        "InvalidOutput",
      ],
      [() => sfn.send(new DescribeExecutionCommand({} as never)), "ValidationException"],
      [
        () => sfn.send(new ListExecutionsCommand({ stateMachineArn: machineArn, maxResults: 5000 })),
        "ValidationException",
      ],
      [
        () => sfn.send(new ListExecutionsCommand({ stateMachineArn: machineArn, nextToken: "bm9wZQ==" })),
        "InvalidToken",
      ],
    ];
    for (const [call, name] of cases) {
      expect(await failure(call())).toMatchObject({ name, status: 400 });
    }
  });

  it("answers an unknown operation as AWS does", async () => {
    const res = await fetch(fixture.engine.sfnUrl, {
      method: "POST",
      headers: {
        "content-type": "application/x-amz-json-1.0",
        "x-amz-target": "AWSStepFunctions.ListMapRuns",
      },
      body: "{}",
    });
    expect(res.status).toBe(400);
    expect(res.headers.get("x-amzn-errortype")).toBe("UnknownOperationException");
    expect(await res.json()).toEqual({
      __type: "UnknownOperationException",
      message: "Unknown operation AWSStepFunctions.ListMapRuns",
    });
  });

  it("returns no task when none comes within the poll time", async () => {
    const quiet = uniqueName("quiet");
    await sfn.send(new CreateActivityCommand({ name: quiet }));
    const started = Date.now();
    const task = await sfn.send(
      new GetActivityTaskCommand({ activityArn: activityArn(quiet), workerName: "w" }),
    );
    expect(task.taskToken).toBeUndefined();
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_900);
  });

  it("deletes an activity: it is no longer described, listed or polled, and can be declared again", async () => {
    const gone = uniqueName("gone");
    const arn = activityArn(gone);
    await sfn.send(new CreateActivityCommand({ name: gone }));
    expect((await sfn.send(new DescribeActivityCommand({ activityArn: arn }))).name).toBe(gone);

    expect(await sfn.send(new DeleteActivityCommand({ activityArn: arn }))).toMatchObject({
      $metadata: { httpStatusCode: 200 },
    });
    expect(await failure(sfn.send(new DescribeActivityCommand({ activityArn: arn })))).toMatchObject({
      name: "ActivityDoesNotExist",
      status: 400,
    });
    expect(
      await failure(sfn.send(new GetActivityTaskCommand({ activityArn: arn, workerName: "w" }))),
    ).toMatchObject({ name: "ActivityDoesNotExist", status: 400 });
    const listed = await sfn.send(new ListActivitiesCommand({ maxResults: 1000 }));
    const names = (listed.activities ?? []).map((a) => a.name);
    expect(names).toContain(activity);
    expect(names).not.toContain(gone);
    // Deleting it again succeeds, as in AWS.
    await sfn.send(new DeleteActivityCommand({ activityArn: arn }));
    await sfn.send(new CreateActivityCommand({ name: gone }));
    expect((await sfn.send(new DescribeActivityCommand({ activityArn: arn }))).name).toBe(gone);
  });

  it("redrives a failed execution, which runs its failed task again and succeeds", async () => {
    const flaky = uniqueName("flaky");
    await sfn.send(new CreateActivityCommand({ name: flaky }));
    // No Catch: the task's failure fails the execution in the Task state, where a redrive resumes.
    const created = await sfn.send(
      new CreateStateMachineCommand({
        name: uniqueName("redriven"),
        definition: JSON.stringify({
          StartAt: "Prepare",
          States: {
            Prepare: { Type: "Pass", Result: "prepared", ResultPath: "$.prepared", Next: "Charge" },
            Charge: {
              Type: "Task",
              Resource: activityArn(flaky),
              TimeoutSeconds: 60,
              Parameters: { "amount.$": "$.amount", "redrives.$": "$$.Execution.RedriveCount" },
              End: true,
            },
          },
        }),
        roleArn: ROLE,
      }),
    );
    const started = await sfn.send(
      new StartExecutionCommand({
        stateMachineArn: created.stateMachineArn,
        name: "first-fails",
        input: '{"amount":7}',
      }),
    );
    const executionArn = started.executionArn ?? "";
    const nextTask = async () => {
      let token = "";
      let input = "";
      await waitFor(async () => {
        const task = await sfn.send(
          new GetActivityTaskCommand({ activityArn: activityArn(flaky), workerName: "flaky-worker" }),
        );
        token = task.taskToken ?? "";
        input = task.input ?? "";
        return token !== "";
      }, 30_000);
      return { token, input: JSON.parse(input) as unknown };
    };

    const first = await nextTask();
    expect(first.input).toEqual({ amount: 7, redrives: 0 });
    await sfn.send(
      new SendTaskFailureCommand({ taskToken: first.token, error: "Unavailable", cause: "try later" }),
    );
    expect(await waitForStatus(executionArn, "FAILED")).toMatchObject({
      error: "Unavailable",
      cause: "try later",
    });

    const redrive = await sfn.send(new RedriveExecutionCommand({ executionArn }));
    expect(redrive.redriveDate).toBeInstanceOf(Date);
    // The Task runs again with the input it had, and sees the redrive count.
    const second = await nextTask();
    expect(second.input).toEqual({ amount: 7, redrives: 1 });
    await sfn.send(new SendTaskSuccessCommand({ taskToken: second.token, output: '{"charged":7}' }));
    const done = await waitForStatus(executionArn, "SUCCEEDED");
    expect(JSON.parse(done.output ?? "")).toEqual({ charged: 7 });
    expect(done.name).toBe("first-fails");

    const history = await sfn.send(new GetExecutionHistoryCommand({ executionArn, maxResults: 1000 }));
    const types = (history.events ?? []).map((e) => e.type);
    const redriven = (history.events ?? []).filter((e) => e.type === "ExecutionRedriven");
    expect(redriven).toHaveLength(1);
    expect(redriven[0]?.executionRedrivenEventDetails).toEqual({ redriveCount: 1 });
    // After the failure: the redrive, the Task entered again (not the Pass before it), its success.
    const at = types.indexOf("ExecutionRedriven");
    expect(types.slice(0, at)).toContain("ExecutionFailed");
    expect(types.slice(at)).toEqual(
      expect.arrayContaining(["TaskStateEntered", "ActivitySucceeded", "ExecutionSucceeded"]),
    );
    expect(types.slice(at)).not.toContain("PassStateEntered");
    expect(types.filter((t) => t === "ActivityScheduled")).toHaveLength(2);
    expect(types[types.length - 1]).toBe("ExecutionSucceeded");

    // Succeeded, it cannot be redriven again.
    expect(await failure(sfn.send(new RedriveExecutionCommand({ executionArn })))).toMatchObject({
      name: "ExecutionNotRedrivable",
      status: 400,
    });
  });
});

/** Debian's awscli (2.x) when installed, else the first `aws` on PATH. */
const AWS = existsSync("/usr/bin/aws") ? "/usr/bin/aws" : "aws";

/** Runs the AWS CLI against the endpoint, bounded to 60 s, with dummy credentials only. */
function aws(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(
      AWS,
      ["stepfunctions", ...args, "--endpoint-url", fixture.engine.sfnUrl, "--output", "json"],
      {
        env: {
          PATH: process.env.PATH,
          HOME: process.env.HOME,
          AWS_ACCESS_KEY_ID: "AKIDDUMMY",
          AWS_SECRET_ACCESS_KEY: "dummy",
          AWS_DEFAULT_REGION: "us-east-1",
          AWS_EC2_METADATA_DISABLED: "true",
          AWS_PAGER: "",
          AWS_CONFIG_FILE: "/dev/null",
          AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
        },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    child.once("error", reject);
    child.once("close", (code) => {
      clearTimeout(timer);
      resolveRun({ code, stdout, stderr });
    });
  });
}

describe("the Step Functions API with the AWS CLI", () => {
  it("lists state machines, starts and describes an execution, and hands out its task", async () => {
    const activity = uniqueName("cli-task");
    const machine = uniqueName("cli-machine");
    await sfn.send(new CreateActivityCommand({ name: activity }));
    await sfn.send(
      new CreateStateMachineCommand({ name: machine, definition: chargeMachine(activity), roleArn: ROLE }),
    );
    const machineArn = `arn:aws:states:us-east-1:000000000000:stateMachine:${machine}`;

    const list = await aws("list-state-machines");
    expect(list).toMatchObject({ code: 0 });
    expect(
      (JSON.parse(list.stdout) as { stateMachines: { name: string }[] }).stateMachines.map((m) => m.name),
    ).toContain(machine);

    const start = await aws(
      "start-execution",
      "--state-machine-arn",
      machineArn,
      "--name",
      "from-cli",
      "--input",
      '{"amount":7}',
    );
    expect(start).toMatchObject({ code: 0 });
    const { executionArn } = JSON.parse(start.stdout) as { executionArn: string };
    expect(executionArn).toBe(`arn:aws:states:us-east-1:000000000000:execution:${machine}:from-cli`);

    const task = await aws(
      "get-activity-task",
      "--activity-arn",
      activityArn(activity),
      "--worker-name",
      "cli",
    );
    expect(task).toMatchObject({ code: 0 });
    const { taskToken, input } = JSON.parse(task.stdout) as { taskToken: string; input: string };
    expect(JSON.parse(input)).toEqual({ amount: 7 });
    await sfn.send(new SendTaskSuccessCommand({ taskToken, output: '{"ok":true}' }));
    await waitForStatus(executionArn, "SUCCEEDED");

    const describe = await aws("describe-execution", "--execution-arn", executionArn);
    expect(describe).toMatchObject({ code: 0 });
    expect(JSON.parse(describe.stdout)).toMatchObject({
      status: "SUCCEEDED",
      name: "from-cli",
      output: '{"ok":true}',
    });

    const missing = await aws("describe-execution", "--execution-arn", `${executionArn}-missing`);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain("ExecutionDoesNotExist");
  });
});

describe("the Step Functions API with access keys", () => {
  let gateway: ManagedProcess | undefined;
  let endpoint = "";
  beforeAll(async () => {
    const [grpcPort, httpPort, sfnPort] = await freePorts(3);
    endpoint = `http://127.0.0.1:${sfnPort}`;
    gateway = new ManagedProcess(
      "api-gateway#signed",
      join(ROOT, "services", "api-gateway", "dist", "main.js"),
      {
        PATH: process.env.PATH,
        NATS_URL: fixture.engine.natsUrl,
        LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "info",
        GRPC_ADDR: `127.0.0.1:${grpcPort}`,
        HTTP_PORT: String(httpPort),
        SFN_PORT: String(sfnPort),
        SFN_HOST: "127.0.0.1",
        SFN_ACCESS_KEYS: JSON.stringify([
          { accessKeyId: "AKIDJETFLOW", secret: "right-secret", role: "admin" },
          { accessKeyId: "AKIDREADER", secret: "reader-secret", role: "reader", name: "reader-bot" },
          {
            accessKeyId: "AKIDTEAMA",
            secret: "team-secret",
            role: "operator",
            name: "team-a-ci",
            workflowPrefixes: ["team-a-"],
          },
        ]),
        SFN_ACTIVITY_POLL_MS: "2000",
      },
      join(fixture.engine.logDir, "api-gateway-signed.log"),
    );
    gateway.start();
    await gateway.waitForLog("service started");
  });
  afterAll(async () => {
    await gateway?.stop();
  });

  it("accepts a request signed with a configured key", async () => {
    const client = clientFor(endpoint, "right-secret", "AKIDJETFLOW");
    const page = await client.send(new ListStateMachinesCommand({}));
    expect(Array.isArray(page.stateMachines)).toBe(true);
    client.destroy();
  });

  it("refuses a request signed with the wrong secret, or by an unknown key", async () => {
    const wrongSecret = clientFor(endpoint, "wrong-secret", "AKIDJETFLOW");
    expect(await failure(wrongSecret.send(new ListStateMachinesCommand({})))).toMatchObject({
      name: "InvalidSignatureException",
      status: 400,
    });
    wrongSecret.destroy();
    const unknownKey = clientFor(endpoint, "right-secret", "AKIDSOMEONE");
    expect(await failure(unknownKey.send(new ListStateMachinesCommand({})))).toMatchObject({
      name: "UnrecognizedClientException",
      status: 400,
    });
    unknownKey.destroy();
  });

  /** An execution of a new state machine `name` on `activity`, its task taken through `taker`. */
  async function executionWithTask(name: string, activity: string, taker = sfn) {
    await sfn.send(new CreateActivityCommand({ name: activity }));
    const { stateMachineArn } = await sfn.send(
      new CreateStateMachineCommand({ name, definition: chargeMachine(activity), roleArn: ROLE }),
    );
    const { executionArn = "" } = await sfn.send(
      new StartExecutionCommand({ stateMachineArn, input: '{"amount":5}' }),
    );
    let taskToken: string | undefined;
    await waitFor(async () => {
      taskToken = (
        await taker.send(new GetActivityTaskCommand({ activityArn: activityArn(activity), workerName: "w" }))
      ).taskToken;
      return taskToken !== undefined;
    }, 30_000);
    return { stateMachineArn: stateMachineArn ?? "", executionArn, taskToken: taskToken ?? "" };
  }

  it("lets a reader key describe and list, and refuses it starting, stopping and answering tasks", async () => {
    const reader = clientFor(endpoint, "reader-secret", "AKIDREADER");
    const activity = uniqueName("reader-task");
    const { stateMachineArn, executionArn, taskToken } = await executionWithTask(
      uniqueName("read"),
      activity,
    );
    await reader.send(new DescribeStateMachineCommand({ stateMachineArn }));
    expect((await reader.send(new ListStateMachinesCommand({}))).stateMachines?.length).toBeGreaterThan(0);
    expect((await reader.send(new DescribeExecutionCommand({ executionArn }))).status).toBe("RUNNING");
    expect((await reader.send(new ListExecutionsCommand({ stateMachineArn }))).executions).toHaveLength(1);
    expect(
      (await reader.send(new GetExecutionHistoryCommand({ executionArn }))).events?.length,
    ).toBeGreaterThan(0);
    await reader.send(new DescribeActivityCommand({ activityArn: activityArn(activity) }));

    const denied = await failure(reader.send(new StartExecutionCommand({ stateMachineArn })));
    expect(denied).toEqual({
      name: "AccessDeniedException",
      status: 400,
      message:
        "User: arn:aws:iam::000000000000:user/reader-bot is not authorized to perform: " +
        `states:StartExecution on resource: ${stateMachineArn} because states:StartExecution needs ` +
        'the role "operator" and "reader-bot" has "reader"',
    });
    for (const command of [
      new StopExecutionCommand({ executionArn }),
      new SendTaskSuccessCommand({ taskToken, output: "{}" }),
      new SendTaskFailureCommand({ taskToken, error: "E" }),
      new SendTaskHeartbeatCommand({ taskToken }),
      new GetActivityTaskCommand({ activityArn: activityArn(activity) }),
    ]) {
      const refused = await failure(reader.send(command as StopExecutionCommand));
      expect(refused).toMatchObject({ name: "AccessDeniedException", status: 400 });
      expect(refused.message).toContain('needs the role "operator"');
    }
    const refused = await failure(reader.send(new CreateActivityCommand({ name: uniqueName("nope") })));
    expect(refused.message).toContain('needs the role "admin"');
    // None of it happened: the task is still the running attempt.
    await sfn.send(new SendTaskSuccessCommand({ taskToken, output: '{"ok":1}' }));
    await waitForStatus(executionArn, "SUCCEEDED");
    reader.destroy();
  });

  it("limits a scoped key to its workflow prefixes, and records it as who started and stopped", async () => {
    const team = clientFor(endpoint, "team-secret", "AKIDTEAMA");
    const own = uniqueName("team-a-pay");
    const other = await executionWithTask(uniqueName("team-b-pay"), uniqueName("team-b-task"));
    await sfn.send(
      new CreateStateMachineCommand({
        name: own,
        definition: chargeMachine(uniqueName("idle")),
        roleArn: ROLE,
      }),
    );
    const ownArn = `arn:aws:states:us-east-1:000000000000:stateMachine:${own}`;

    const started = await team.send(new StartExecutionCommand({ stateMachineArn: ownArn, name: "by-team" }));
    expect(
      (await team.send(new DescribeExecutionCommand({ executionArn: started.executionArn }))).status,
    ).toBe("RUNNING");
    const names = (await team.send(new ListStateMachinesCommand({ maxResults: 1000 }))).stateMachines ?? [];
    expect(names.map((m) => m.name)).toContain(own);
    expect(names.every((m) => m.name?.startsWith("team-a-"))).toBe(true);

    for (const command of [
      new StartExecutionCommand({ stateMachineArn: other.stateMachineArn }),
      new DescribeExecutionCommand({ executionArn: other.executionArn }),
      new GetExecutionHistoryCommand({ executionArn: other.executionArn }),
      new StopExecutionCommand({ executionArn: other.executionArn }),
      new SendTaskSuccessCommand({ taskToken: other.taskToken, output: "{}" }),
    ]) {
      const refused = await failure(team.send(command as StartExecutionCommand));
      expect(refused).toMatchObject({ name: "AccessDeniedException", status: 400 });
      expect(refused.message).toContain('"team-a-ci" is limited to the workflow prefixes ["team-a-"]');
    }
    const poll = await failure(
      team.send(new GetActivityTaskCommand({ activityArn: activityArn(uniqueName("any")) })),
    );
    expect(poll).toMatchObject({ name: "AccessDeniedException" });
    expect(poll.message).toContain("concerns every workflow");

    await team.send(new StopExecutionCommand({ executionArn: started.executionArn, error: "Halt" }));
    await waitForStatus(started.executionArn ?? "", "ABORTED");
    // The identity is recorded as the gRPC API records it: in the history and in the log.
    const executionId = namedExecutionId(own, "by-team");
    const { events } = await fixture.engine.client.getExecutionHistory({
      executionId,
      pageSize: 1000,
      pageToken: "",
      reverseOrder: false,
    });
    expect(events.find((e) => e.details?.$case === "executionStarted")?.details?.value).toMatchObject({
      identity: "team-a-ci",
    });
    expect(events.find((e) => e.details?.$case === "executionAborted")?.details?.value).toMatchObject({
      error: "Halt",
      identity: "team-a-ci",
    });
    const log = gateway?.printed ?? "";
    expect(log).toContain(
      `"identity":"team-a-ci","workflow":"${own}","executionId":"${executionId}","msg":"execution started"`,
    );
    await sfn.send(new SendTaskSuccessCommand({ taskToken: other.taskToken, output: "{}" }));
    team.destroy();
  });

  it("answers a task taken through one gateway through another, and redelivers one whose gateway crashed", async () => {
    const admin = clientFor(endpoint, "right-secret", "AKIDJETFLOW");
    const activity = uniqueName("relay");
    // Taken through the fixture's gateway, answered through this one.
    const first = await executionWithTask(uniqueName("relay"), activity);
    await admin.send(new SendTaskSuccessCommand({ taskToken: first.taskToken, output: '{"via":"B"}' }));
    expect((await waitForStatus(first.executionArn, "SUCCEEDED")).output).toBe('{"via":"B"}');

    // Taken through this gateway, which holds it in progress (at least once, like a worker)...
    const second = await executionWithTask(uniqueName("relay"), activity, admin);
    const jsm = await jetstreamManager(fixture.nc);
    await waitFor(async () => {
      const info = await jsm.consumers.info(streams.tasks, consumers.task(activity));
      // The first task may still be held too: its gateway lets it go at its next check.
      return info.num_ack_pending >= 1 && info.num_pending === 0;
    }, 30_000);
    admin.destroy();
    // ...then crashes: nothing can be handed back on the way out.
    await gateway?.kill();
    gateway?.start();
    await gateway?.waitForLog("service started");
    // The task comes back after the consumer's ack wait: the same attempt, to the next poller.
    const again = await waitFor(
      async () =>
        (await sfn.send(new GetActivityTaskCommand({ activityArn: activityArn(activity) }))).taskToken,
      { timeoutMs: 60_000, message: "the task held by the crashed gateway was not redelivered" },
    );
    expect(again).toBe(second.taskToken);
    // Either poller's answer completes it, through any gateway: the first stored result counts.
    const restarted = clientFor(endpoint, "right-secret", "AKIDJETFLOW");
    await restarted.send(new SendTaskHeartbeatCommand({ taskToken: second.taskToken }));
    await restarted.send(new SendTaskSuccessCommand({ taskToken: second.taskToken, output: '{"via":"B2"}' }));
    expect((await waitForStatus(second.executionArn, "SUCCEEDED")).output).toBe('{"via":"B2"}');
    restarted.destroy();
  });

  it("refuses an unsigned request", async () => {
    const res = await fetch(endpoint, {
      method: "POST",
      headers: {
        "content-type": "application/x-amz-json-1.0",
        "x-amz-target": "AWSStepFunctions.ListStateMachines",
      },
      body: "{}",
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { __type: string }).__type).toBe("MissingAuthenticationTokenException");
  });
});
