import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { activityName, formatProblems, loadDefinition } from "@jetflow/asl";
import type { State, StateMachine } from "@jetflow/asl";
import { APPROVAL_ACTIVITY, EXAMPLE_ACTIVITIES } from "./activities";

const ROOT = join(__dirname, "..");
const files = readdirSync(join(ROOT, "workflows")).filter((f) => f.endsWith(".asl.yaml"));

function tasksOf(machine: Pick<StateMachine, "States">): string[] {
  return Object.values(machine.States).flatMap((state: State) => {
    if (state.Type === "Task") return [activityName(state.Resource)];
    if (state.Type === "Parallel") return state.Branches.flatMap(tasksOf);
    if (state.Type === "Map") return tasksOf((state.ItemProcessor ?? state.Iterator)!);
    return [];
  });
}

function load(file: string): StateMachine {
  const loaded = loadDefinition(readFileSync(join(ROOT, "workflows", file), "utf8"));
  if (!loaded.ok) throw new Error(formatProblems(loaded.problems, file));
  return loaded.machine;
}

it("ships the four example workflows, each with a sample input", () => {
  expect(files.sort()).toEqual([
    "expense-approval.asl.yaml",
    "monthly-invoicing.asl.yaml",
    "order-fulfilment.asl.yaml",
    "subscription-renewal.asl.yaml",
  ]);
  for (const file of files) {
    const input = readFileSync(join(ROOT, "inputs", file.replace(".asl.yaml", ".json")), "utf8");
    expect(() => JSON.parse(input) as unknown).not.toThrow();
  }
});

describe.each(files)("%s", (file) => {
  it("is a valid definition", () => {
    expect(() => load(file)).not.toThrow();
  });

  it("has a worker for every activity, except the one a person completes", () => {
    for (const activity of tasksOf(load(file))) {
      if (activity === APPROVAL_ACTIVITY) continue;
      expect(EXAMPLE_ACTIVITIES).toContain(activity);
    }
  });

  it("sets a timeout on every task", () => {
    const states = (machine: Pick<StateMachine, "States">): State[] =>
      Object.values(machine.States).flatMap((state: State) =>
        state.Type === "Parallel"
          ? state.Branches.flatMap(states)
          : state.Type === "Map"
            ? states((state.ItemProcessor ?? state.Iterator)!)
            : [state],
      );
    for (const state of states(load(file))) {
      if (state.Type !== "Task") continue;
      expect(state.TimeoutSeconds ?? state.TimeoutSecondsPath).toBeDefined();
    }
  });
});

it("uses every activity of the worker in some workflow", () => {
  const used = new Set(files.flatMap((file) => tasksOf(load(file))));
  expect(EXAMPLE_ACTIVITIES.filter((name) => !used.has(name))).toEqual([]);
});

it("shows the structures each example is about", () => {
  const types = (machine: Pick<StateMachine, "States">): string[] =>
    Object.values(machine.States).flatMap((state: State) => [
      state.Type,
      ...(state.Type === "Parallel" ? state.Branches.flatMap(types) : []),
    ]);
  const orders = load("order-fulfilment.asl.yaml");
  expect(types(orders)).toEqual(expect.arrayContaining(["Choice", "Parallel", "Fail"]));
  expect(orders.States["ReserveAndCharge"]).toMatchObject({ Catch: [{ Next: "Compensate" }] });
  expect(load("monthly-invoicing.asl.yaml").States["InvoiceEachAccount"]).toMatchObject({
    Type: "Map",
    MaxConcurrency: 8,
  });
  expect(load("subscription-renewal.asl.yaml").States["ChargeCard"]).toMatchObject({
    Retry: [{ ErrorEquals: ["PaymentGatewayUnavailable", "States.Timeout"], BackoffRate: 2 }],
  });
  expect(load("expense-approval.asl.yaml").States["WaitForManager"]).toMatchObject({
    Resource: APPROVAL_ACTIVITY,
    TimeoutSecondsPath: "$.approvalTimeoutSeconds",
    Catch: [{ ErrorEquals: ["States.Timeout"] }],
  });
});
