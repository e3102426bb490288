import {
  applyResultPath,
  choiceOutput,
  effectiveInput,
  passResult,
  passThroughOutput,
  stateOutput,
} from "./data-flow";
import { StatesError } from "./errors";
import type { Json } from "./json";
import { testEnv } from "./test-env.test-helper";
import type { ParallelState, PassState, TaskState, WaitState } from "./types";

const env = testEnv();
const task = (fields: Partial<TaskState>): TaskState => ({
  Type: "Task",
  Resource: "work",
  End: true,
  ...fields,
});

function thrown(fn: () => unknown): StatesError {
  try {
    fn();
  } catch (error) {
    if (error instanceof StatesError) return error;
    throw error;
  }
  throw new Error("expected a StatesError");
}

describe("effectiveInput", () => {
  it("reproduces the specification's Parameters example", () => {
    const state = task({
      Parameters: {
        flagged: true,
        parts: { "first.$": "$.vals[0]", "last3.$": "$.vals[-3:]" },
        "weekday.$": "$$.Execution.Name",
        "formattedOutput.$": "States.Format('Today is {}', $$.Execution.Name)",
      },
    });
    expect(effectiveInput(state, { flagged: 7, vals: [0, 10, 20, 30, 40, 50] }, env)).toEqual({
      flagged: true,
      parts: { first: 0, last3: [30, 40, 50] },
      weekday: "run-9",
      formattedOutput: "Today is run-9",
    });
  });

  it("applies InputPath before Parameters", () => {
    const state = task({ InputPath: "$.numbers", Parameters: { "sum.$": "States.MathAdd($.val1, $.val2)" } });
    expect(effectiveInput(state, { title: "Numbers to add", numbers: { val1: 3, val2: 4 } }, env)).toEqual({
      sum: 7,
    });
  });

  it("gives {} for InputPath null and the raw input when InputPath is absent", () => {
    expect(effectiveInput(task({ InputPath: null }), { a: 1 }, env)).toEqual({});
    const raw = { a: 1 };
    expect(effectiveInput(task({}), raw, env)).toBe(raw);
  });

  it("gathers multiple InputPath matches into an array", () => {
    expect(effectiveInput(task({ InputPath: "$.a[0,1]" }), { a: [1, 2, 3, 4] }, env)).toEqual([1, 2]);
  });

  it("resolves context fields such as the task token", () => {
    expect(
      effectiveInput(
        task({ Parameters: { "token.$": "$$.Task.Token", "input.$": "$$.Execution.Input" } }),
        {},
        env,
      ),
    ).toEqual({
      token: "token-1",
      input: { start: true },
    });
  });

  it("fails with States.Runtime when InputPath matches nothing", () => {
    expect(thrown(() => effectiveInput(task({ InputPath: "$.missing" }), {}, env))).toMatchObject({
      error: "States.Runtime",
      cause: `InputPath "$.missing" matches nothing in the state's input`,
    });
  });

  it("fails with States.ParameterPathFailure when a .$ path matches nothing", () => {
    expect(
      thrown(() => effectiveInput(task({ Parameters: { nested: [{ "x.$": "$.missing" }] } }), {}, env)),
    ).toMatchObject({
      error: "States.ParameterPathFailure",
      cause: 'cannot resolve field "x.$": path "$.missing" matches nothing in the input',
    });
    expect(
      thrown(() => effectiveInput(task({ Parameters: { "x.$": "$$.Map.Item.Value" } }), {}, env)).cause,
    ).toBe('cannot resolve field "x.$": path "$$.Map.Item.Value" matches nothing in the context object');
  });

  it("fails with States.IntrinsicFailure when a function fails", () => {
    expect(
      thrown(() => effectiveInput(task({ Parameters: { "x.$": "States.ArrayLength($.a)" } }), { a: 1 }, env)),
    ).toMatchObject({
      error: "States.IntrinsicFailure",
      cause: "States.ArrayLength: the first argument must be an array, got 1",
    });
  });

  it("leaves fields without .$ untouched, even when they look like paths", () => {
    expect(
      effectiveInput(
        task({ Parameters: { literal: "$.a", list: ["$.a", { "b.$": "$.a" }] } }),
        { a: 1 },
        env,
      ),
    ).toEqual({
      literal: "$.a",
      list: ["$.a", { b: 1 }],
    });
  });

  it("cannot pollute prototypes through template keys", () => {
    const payload = effectiveInput(
      task({ Parameters: JSON.parse('{"__proto__": {"polluted": true}, "a.$": "$"}') }),
      { x: 1 },
      env,
    );
    expect(Object.getPrototypeOf(payload)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(JSON.stringify(payload)).toBe('{"__proto__":{"polluted":true},"a":{"x":1}}');
    const viaDollar = effectiveInput(
      task({ Parameters: { "__proto__.$": "$.evil" } }),
      { evil: { polluted: true } },
      env,
    );
    expect(Object.getPrototypeOf(viaDollar)).toBe(Object.prototype);
    expect(JSON.stringify(viaDollar)).toBe('{"__proto__":{"polluted":true}}');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe("stateOutput", () => {
  const raw: Json = { title: "Numbers to add", numbers: { val1: 3, val2: 4 } };

  it("places the result with ResultPath, as in the specification's sum example", () => {
    expect(stateOutput(task({ InputPath: "$.numbers", ResultPath: "$.sum" }), raw, 7, env)).toEqual({
      title: "Numbers to add",
      numbers: { val1: 3, val2: 4 },
      sum: 7,
    });
  });

  it("replaces the input by default (ResultPath $)", () => {
    expect(stateOutput(task({}), raw, 7, env)).toBe(7);
    expect(stateOutput(task({ ResultPath: "$" }), raw, { x: 1 }, env)).toEqual({ x: 1 });
  });

  it("discards the result for ResultPath null", () => {
    expect(stateOutput(task({ ResultPath: null }), raw, 7, env)).toBe(raw);
  });

  it("applies OutputPath after ResultPath", () => {
    expect(stateOutput(task({ ResultPath: "$.sum", OutputPath: "$.sum" }), raw, 7, env)).toBe(7);
    expect(stateOutput(task({ ResultPath: "$.r", OutputPath: "$.title" }), raw, 7, env)).toBe(
      "Numbers to add",
    );
    expect(stateOutput(task({ OutputPath: null }), raw, 7, env)).toEqual({});
  });

  it("applies ResultSelector to the result first", () => {
    const state = task({
      ResultSelector: { "total.$": "$.Payload.sum", "when.$": "$$.State.EnteredTime" },
      ResultPath: "$.result",
    });
    expect(stateOutput(state, { a: 1 }, { Payload: { sum: 5 }, StatusCode: 200 }, env)).toEqual({
      a: 1,
      result: { total: 5, when: "2024-05-01T10:00:01Z" },
    });
  });

  it("fails with States.ResultPathMatchFailure when the raw input cannot hold the result", () => {
    expect(thrown(() => stateOutput(task({ ResultPath: "$.x" }), "foo", 1, env))).toMatchObject({
      error: "States.ResultPathMatchFailure",
      cause: 'cannot apply ResultPath "$.x": the input is "foo", not an object',
    });
  });

  it("fails with States.Runtime when OutputPath matches nothing", () => {
    expect(thrown(() => stateOutput(task({ OutputPath: "$.nope" }), {}, { a: 1 }, env))).toMatchObject({
      error: "States.Runtime",
      cause: `OutputPath "$.nope" matches nothing in the state's output`,
    });
  });

  it("handles a Parallel state's array of branch results, as the specification's FunWithMath example", () => {
    const state: ParallelState = { Type: "Parallel", Branches: [], End: true };
    expect(stateOutput(state, [3, 2], [5, 1], env)).toEqual([5, 1]);
    expect(thrown(() => stateOutput({ ...state, ResultPath: "$.results" }, [3, 2], [5, 1], env)).cause).toBe(
      'cannot apply ResultPath "$.results": the input is an array, not an object',
    );
  });
});

describe("passResult", () => {
  it("injects Result at ResultPath, as the specification's No-op example", () => {
    const state: PassState = {
      Type: "Pass",
      Result: { "x-datum": 0.381018, "y-datum": 622.2269926397355 },
      ResultPath: "$.coords",
      Next: "End",
    };
    expect(passResult(state, { georefOf: "Home" }, env)).toEqual({
      georefOf: "Home",
      coords: { "x-datum": 0.381018, "y-datum": 622.2269926397355 },
    });
  });

  it("copies its input through without Result or ResultPath", () => {
    expect(passResult({ Type: "Pass", End: true }, { a: 1 }, env)).toEqual({ a: 1 });
  });

  it("uses its effective input (InputPath, Parameters) as the result", () => {
    const state: PassState = {
      Type: "Pass",
      End: true,
      InputPath: "$.in",
      Parameters: { "v.$": "$.v", id: "States.UUID()" },
      ResultPath: "$.out",
    };
    expect(passResult(state, { in: { v: 2 } }, env)).toEqual({
      in: { v: 2 },
      out: { v: 2, id: "States.UUID()" },
    });
    const withUuid: PassState = { Type: "Pass", End: true, Parameters: { "id.$": "States.UUID()" } };
    expect(passResult(withUuid, {}, env)).toEqual({ id: "00000000-0000-4000-8000-000000000000" });
  });

  it("lets Result win over Parameters, and keeps a null Result", () => {
    expect(passResult({ Type: "Pass", End: true, Result: null }, { a: 1 }, env)).toBeNull();
    expect(passResult({ Type: "Pass", End: true, Result: 1, Parameters: { b: 2 } }, { a: 1 }, env)).toBe(1);
  });
});

describe("passThroughOutput and choiceOutput", () => {
  it("apply InputPath then OutputPath", () => {
    const wait: WaitState = { Type: "Wait", Seconds: 1, End: true, InputPath: "$.a", OutputPath: "$.b" };
    expect(passThroughOutput(wait, { a: { b: 5 } })).toBe(5);
    expect(choiceOutput({ Type: "Choice", Choices: [], OutputPath: null }, { a: 1 })).toEqual({});
    expect(passThroughOutput({ Type: "Succeed" }, { a: 1 })).toEqual({ a: 1 });
    expect(passThroughOutput({ Type: "Fail" }, { a: 1 })).toEqual({ a: 1 });
  });
});

describe("applyResultPath", () => {
  it("copies instead of mutating", () => {
    const raw = { a: { b: 1 } };
    const out = applyResultPath("$.a.c", raw, 2);
    expect(out).toEqual({ a: { b: 1, c: 2 } });
    expect(raw).toEqual({ a: { b: 1 } });
  });
});
