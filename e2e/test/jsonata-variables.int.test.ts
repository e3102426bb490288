/**
 * JSONata states and workflow variables end to end: a workflow mixing JSONPath and JSONata
 * states, variables read inside Map iterations and Parallel branches, a JSONata error caught by
 * Catch, and variables that survive the restart of every service.
 */
import type { NatsConnection } from "@nats-io/transport-node";
import { SERVICE_NAMES, checkStoredExecution, statusOf, waitForEnd } from "../src";
import type { Engine } from "../src";
import { useEngine } from "./fixture";

const fixture = useEngine();
let engine: Engine;
let nc: NatsConnection;

beforeAll(() => {
  ({ engine, nc } = fixture);
});

let counter = 0;

async function start(definition: object, input: unknown): Promise<string> {
  const name = `jsonata-${++counter}`;
  await engine.client.registerWorkflow({ name, definition: JSON.stringify(definition), description: "" });
  const { executionId } = await engine.client.startExecution({
    workflowName: name,
    workflowVersion: 0,
    inputJson: JSON.stringify(input),
    executionName: "",
  });
  return executionId;
}

async function finish(executionId: string, timeoutMs = 60_000) {
  const described = await waitForEnd(engine.client, executionId, timeoutMs);
  await checkStoredExecution(nc, executionId);
  return {
    status: statusOf(described.execution?.status),
    output: described.outputJson ? (JSON.parse(described.outputJson) as unknown) : undefined,
    error: described.error,
    cause: described.cause,
  };
}

const run = async (definition: object, input: unknown = {}) => finish(await start(definition, input));

it("runs a workflow that mixes JSONPath and JSONata states, sharing variables", async () => {
  const definition = {
    StartAt: "Load",
    States: {
      Load: {
        Type: "Pass",
        Parameters: { "order.$": "$.order", "customer.$": "$.customer" },
        Assign: { "customer.$": "$.customer", "lines.$": "States.ArrayLength($.order.lines)" },
        Next: "Total",
      },
      Total: {
        Type: "Task",
        QueryLanguage: "JSONata",
        Resource: "echo",
        Arguments: { total: "{% $sum($states.input.order.lines.(qty * price)) %}" },
        Assign: { total: "{% $states.result.total %}" },
        Output: "{% $states.input %}",
        Next: "Big?",
      },
      "Big?": {
        Type: "Choice",
        QueryLanguage: "JSONata",
        Choices: [{ Condition: "{% $total > 100 %}", Next: "Report", Assign: { size: "big" } }],
        Default: "Report",
        Assign: { size: "small" },
      },
      Report: {
        Type: "Pass",
        Parameters: {
          "customer.$": "$customer",
          "total.$": "$total",
          "size.$": "$size",
          "text.$": "States.Format('{} lines for {}', $lines, $customer)",
        },
        End: true,
      },
    },
  };
  const order = {
    lines: [
      { qty: 2, price: 30 },
      { qty: 1, price: 50 },
    ],
  };
  await expect(run(definition, { order, customer: "ada" })).resolves.toEqual({
    status: "SUCCEEDED",
    output: { customer: "ada", total: 110, size: "big", text: "2 lines for ada" },
    error: "",
    cause: "",
  });
});

it("lets Map iterations and Parallel branches read outer variables but keeps theirs inside", async () => {
  const definition = {
    QueryLanguage: "JSONata",
    StartAt: "Init",
    States: {
      Init: { Type: "Pass", Assign: { step: "{% $states.input.step %}", unit: "x" }, Next: "Each" },
      Each: {
        Type: "Map",
        Items: "{% $range(1, 3, 1) %}",
        MaxConcurrency: "{% 2 %}",
        ItemSelector: { n: "{% $states.context.Map.Item.Value %}" },
        ItemProcessor: {
          StartAt: "Scale",
          States: {
            Scale: {
              Type: "Task",
              Resource: "inc",
              Arguments: { n: "{% $states.input.n * $step %}" },
              Assign: { scaled: "{% $states.result.n %}" },
              Next: "Label",
            },
            Label: { Type: "Pass", Output: "{% $string($scaled) & $unit %}", End: true },
          },
        },
        Assign: { labels: "{% $states.result %}" },
        Next: "Fan",
      },
      Fan: {
        Type: "Parallel",
        Branches: [
          {
            StartAt: "Count",
            States: { Count: { Type: "Pass", Output: "{% $count($labels) %}", End: true } },
          },
          {
            StartAt: "Own",
            States: {
              Own: { Type: "Pass", Assign: { local: "{% $labels[0] %}" }, Next: "Use" },
              Use: { Type: "Pass", Output: "{% $local & '/' & $unit %}", End: true },
            },
          },
        ],
        Output: {
          labels: "{% $labels %}",
          branches: "{% $states.result %}",
          leaked: "{% $exists($scaled) or $exists($local) %}",
        },
        End: true,
      },
    },
  };
  await expect(run(definition, { step: 10 })).resolves.toMatchObject({
    status: "SUCCEEDED",
    output: { labels: ["11x", "21x", "31x"], branches: [3, "11x/x"], leaked: false },
  });
});

it("catches a JSONata evaluation error with Catch, which sees $states.errorOutput", async () => {
  const definition = {
    QueryLanguage: "JSONata",
    StartAt: "Work",
    States: {
      Work: {
        Type: "Task",
        Resource: "echo",
        Arguments: { n: "{% $states.input.missing.field %}" },
        Catch: [
          {
            ErrorEquals: ["States.QueryEvaluationError"],
            Assign: { error: "{% $states.errorOutput.Error %}" },
            Output: { cause: "{% $states.errorOutput.Cause %}", input: "{% $states.input %}" },
            Next: "Handled",
          },
        ],
        End: true,
      },
      Handled: { Type: "Pass", Output: "{% $merge([$states.input, { 'error': $error }]) %}", End: true },
    },
  };
  await expect(run(definition, { a: 1 })).resolves.toMatchObject({
    status: "SUCCEEDED",
    output: {
      error: "States.QueryEvaluationError",
      cause: "Arguments.n: the expression returned nothing (undefined is not JSON)",
      input: { a: 1 },
    },
  });
});

it("rejects an invalid JSONata definition at registration, naming each problem's path", async () => {
  await expect(
    engine.client.registerWorkflow({
      name: "jsonata-invalid",
      definition: JSON.stringify({
        QueryLanguage: "JSONata",
        StartAt: "A",
        States: { A: { Type: "Pass", Output: "{% $states.input.( %}", InputPath: "$.a", End: true } },
      }),
      description: "",
    }),
  ).rejects.toThrow(
    /States\.A\.Output: invalid JSONata expression[\s\S]*States\.A\.InputPath: "InputPath" is a JSONPath field/,
  );
});

it("keeps variables across the restart of every service", async () => {
  const definition = {
    QueryLanguage: "JSONata",
    StartAt: "Remember",
    States: {
      Remember: { Type: "Pass", Assign: { secret: "{% $states.input.secret %}" }, Next: "Pause" },
      Pause: { Type: "Wait", Seconds: 3, Next: "Recall" },
      Recall: { Type: "Pass", Output: { secret: "{% $secret %}" }, End: true },
    },
  };
  const executionId = await start(definition, { secret: "s-42" });
  await Promise.all(SERVICE_NAMES.map((name) => Promise.all(engine.services[name].map((p) => p.kill()))));
  for (const name of SERVICE_NAMES) await engine.startService(name);
  await expect(finish(executionId, 90_000)).resolves.toMatchObject({
    status: "SUCCEEDED",
    output: { secret: "s-42" },
  });
});
