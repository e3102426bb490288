import { AslValidationError } from "./errors";
import { assertValidDefinition, loadDefinition } from "./load";
import { formatProblems } from "./report";

const yaml = `Comment: order flow
StartAt: Charge
States:
  Charge:
    Type: Task
    Resource: charge-card
    Retry:
      - ErrorEquals: [States.Timeout]
      - ErrorEquals: [States.ALL, CardDeclined]
    Next: Ship
  Ship:
    Type: Task
    Resource: ship
`;

describe("loadDefinition", () => {
  it("returns the typed machine for a valid definition", () => {
    const loaded = loadDefinition('{"StartAt": "A", "States": {"A": {"Type": "Succeed"}}}');
    expect(loaded).toEqual({
      ok: true,
      machine: { StartAt: "A", States: { A: { Type: "Succeed", QueryLanguage: "JSONPath" } } },
    });
  });

  it("gives each problem the line and column of its field, or of the closest enclosing one", () => {
    const loaded = loadDefinition(yaml);
    expect(loaded).toEqual({
      ok: false,
      problems: [
        {
          path: "States.Charge.Retry[1].ErrorEquals",
          message: '"States.ALL" must appear alone in "ErrorEquals"',
          line: 9,
          column: 9,
        },
        { path: "States.Ship", message: 'a Task state needs "Next" or "End": true', line: 11, column: 3 },
        {
          path: "States",
          message:
            'no state ends the state machine: give a state "End": true, or add a Succeed or Fail state',
          line: 3,
          column: 1,
        },
      ].sort((a, b) => a.line - b.line),
    });
  });

  it("passes parse problems through", () => {
    expect(loadDefinition("StartAt: [")).toEqual({
      ok: false,
      problems: [
        {
          path: "",
          message:
            '"[" is not closed: flow sequence in block collection must be sufficiently indented and end with a ]',
          line: 1,
          column: 10,
        },
      ],
    });
  });

  it("applies the limits to both parsing and validation", () => {
    const text = '{"StartAt": "A", "States": {"A": {"Type": "Succeed"}, "B": {"Type": "Succeed"}}}';
    expect(loadDefinition(text, { maxStates: 1 })).toEqual({
      ok: false,
      problems: [{ path: "", message: "the definition has 2 states; the limit is 1" }],
    });
  });
});

describe("formatProblems", () => {
  it("prints one problem per line as file:line:column path: message", () => {
    const loaded = loadDefinition(yaml);
    if (loaded.ok) throw new Error("expected problems");
    expect(formatProblems(loaded.problems, "order.yaml")).toBe(
      [
        'order.yaml:3:1 States: no state ends the state machine: give a state "End": true, or add a Succeed or Fail state',
        'order.yaml:9:9 States.Charge.Retry[1].ErrorEquals: "States.ALL" must appear alone in "ErrorEquals"',
        'order.yaml:11:3 States.Ship: a Task state needs "Next" or "End": true',
      ].join("\n"),
    );
  });

  it("leaves out what it does not know", () => {
    expect(formatProblems([{ path: "", message: "the definition is empty" }], "x.json")).toBe(
      "x.json (root): the definition is empty",
    );
    expect(formatProblems([{ path: "StartAt", message: "m", line: 2, column: 4 }])).toBe("2:4 StartAt: m");
    expect(formatProblems([{ path: "StartAt", message: "m" }])).toBe("StartAt: m");
    expect(formatProblems([])).toBe("");
  });
});

describe("assertValidDefinition", () => {
  it("returns the machine or throws AslValidationError with every problem", () => {
    expect(assertValidDefinition("StartAt: A\nStates:\n  A:\n    Type: Succeed\n").StartAt).toBe("A");
    let thrown: unknown;
    try {
      assertValidDefinition(yaml);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(AslValidationError);
    const error = thrown as AslValidationError;
    expect(error.name).toBe("AslValidationError");
    expect(error.problems).toHaveLength(3);
    expect(error.message).toBe(
      'invalid state machine definition: States: no state ends the state machine: give a state "End": true, or add a Succeed or Fail state; States.Charge.Retry[1].ErrorEquals: "States.ALL" must appear alone in "ErrorEquals"; States.Ship: a Task state needs "Next" or "End": true',
    );
  });
});
