import { StatesError } from "./errors";
import type { Json } from "./json";
import { JSONATA_LIMITS, evaluateJsonata, evaluateJsonataValue, isJsonataString } from "./jsonata";
import type { JsonataScope } from "./jsonata";
import { testContext, testEnv } from "./test-env.test-helper";

function scope(
  input: Json,
  variables: Record<string, Json> = {},
  extra: Partial<JsonataScope["states"]> = {},
) {
  return {
    states: { input, context: testContext, ...extra },
    env: testEnv({ variables, nowMs: 1_700_000_000_000 }),
  };
}

function evaluate(expression: string, input: Json = {}, variables: Record<string, Json> = {}): Json {
  return evaluateJsonata(expression, scope(input, variables), "Output");
}

function failure(run: () => unknown): { error: string; cause: string } {
  try {
    run();
  } catch (err) {
    if (err instanceof StatesError) return { error: err.error, cause: err.cause };
    throw err;
  }
  throw new Error("expected a StatesError");
}

describe("JSONata strings", () => {
  it("are strings that start with {% and end with %}", () => {
    expect(isJsonataString("{% 1 %}")).toBe(true);
    expect(isJsonataString(" {% 1 %}")).toBe(false);
    expect(isJsonataString("{% 1 %} ")).toBe(false);
    expect(isJsonataString("{%%}")).toBe(true);
    expect(isJsonataString("{%}")).toBe(false);
  });

  it("are evaluated wherever they sit in objects and arrays; other strings stay literal", () => {
    expect(
      evaluateJsonataValue(
        { a: "{% $states.input.x + 1 %}", b: [1, "{% $two %}", "three"], c: "$two", d: { e: "{% 'n' %}" } },
        scope({ x: 41 }, { two: 2 }),
        "Arguments",
      ),
    ).toEqual({ a: 42, b: [1, 2, "three"], c: "$two", d: { e: "n" } });
  });
});

describe("evaluateJsonata", () => {
  it("reads $states.input, $states.context, $states.result, $states.errorOutput and variables", () => {
    const s = scope({ n: 1 }, { v: "var" }, { result: { r: 2 }, errorOutput: { Error: "E", Cause: "c" } });
    expect(
      evaluateJsonata(
        "[$states.input.n, $states.context.Execution.Id, $states.result.r, $states.errorOutput.Error, $v]",
        s,
        "Output",
      ),
    ).toEqual([1, "exec-1", 2, "E", "var"]);
  });

  it("evaluates the specification's examples", () => {
    const variables = {
      student: { name: "Scotland", course: [{ grade: 34 }, { grade: 99 }, { grade: 76 }, { grade: 96 }] },
    };
    expect(
      evaluate("{ 'avg': $average($student.course.grade), 'num': $count($student.course) }", {}, variables),
    ).toEqual({ avg: 76.25, num: 4 });
    expect(evaluate("($product := function($x, $y) {$x * $y}; $reduce([1..5], $product))")).toBe(120);
    expect(
      evaluate("$states.input.products[calories=0].name", { products: [{ name: "a", calories: 0 }] }),
    ).toBe("a");
  });

  it("gives plain JSON: sequences become arrays, undefined members are dropped", () => {
    const out = evaluate("$states.input.items.{ 'x': x, 'y': y }", { items: [{ x: 1 }, { x: 2, y: 3 }] });
    expect(out).toEqual([{ x: 1 }, { x: 2, y: 3 }]);
    expect(Array.isArray(out)).toBe(true);
    expect(JSON.stringify(evaluate("[1, 2]"))).toBe("[1,2]");
  });

  it("never lets a __proto__ key reach a shared prototype", () => {
    // jsonata 1.8 fails on such an object constructor: an error, never a polluted prototype.
    expect(failure(() => evaluate('{"__proto__": {"polluted": true}}')).error).toBe(
      "States.QueryEvaluationError",
    );
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    const passed = evaluateJsonataValue(JSON.parse('{"__proto__": {"a": 1}}') as Json, scope({}), "Output");
    expect(Object.prototype.hasOwnProperty.call(passed, "__proto__")).toBe(true);
  });

  it("refuses an expression that yields nothing, with States.QueryEvaluationError", () => {
    expect(failure(() => evaluate("$states.input.missing", {}))).toEqual({
      error: "States.QueryEvaluationError",
      cause: "Output: the expression returned nothing (undefined is not JSON)",
    });
  });

  it("reports JSONata's own errors as States.QueryEvaluationError with the JSONata code", () => {
    const e = failure(() => evaluate("$x + 1", {}, { x: "a" }));
    expect(e.error).toBe("States.QueryEvaluationError");
    expect(e.cause).toMatch(/^Output: .*\(T2001\)$/);
  });

  it("refuses a function as a result", () => {
    expect(failure(() => evaluate("function($x) { $x }")).cause).toBe(
      "Output: the expression returned a function, which is not JSON",
    );
  });
});

describe("Step Functions' JSONata functions", () => {
  it("$partition splits an array into chunks", () => {
    expect(evaluate("$partition([1,2,3,4,5], 2)")).toEqual([[1, 2], [3, 4], [5]]);
    expect(failure(() => evaluate("$partition([1], 0)")).cause).toBe(
      "Output: $partition: the chunk size must be positive, got 0",
    );
  });

  it("$range counts from start to end inclusive by step, at most 1000 elements", () => {
    expect(evaluate("$range(0, 10, 2)")).toEqual([0, 2, 4, 6, 8, 10]);
    expect(evaluate("$range(5, 1, -2)")).toEqual([5, 3, 1]);
    expect(evaluate("$range(1, 0, 1)")).toEqual([]);
    expect(failure(() => evaluate("$range(0, 1000, 1)")).cause).toBe(
      "Output: $range: the range would have 1001 elements; the limit is 1000",
    );
  });

  it("$hash hashes with Step Functions' algorithm names", () => {
    expect(evaluate("$hash('input data', 'SHA-1')")).toBe("aaff4a450a104cd177d28d18d74485e8cae074b7");
    expect(failure(() => evaluate("$hash('x', 'SHA-3')")).cause).toBe(
      'Output: $hash: unknown algorithm "SHA-3"; use MD5, SHA-1, SHA-256, SHA-384 or SHA-512',
    );
  });

  it("$random draws from the injected source, or from the seed (same seed, same number)", () => {
    expect(evaluate("$random()")).toBe(0.25);
    const seeded = evaluate("$random(42)");
    expect(typeof seeded).toBe("number");
    expect(evaluate("$random(42)")).toBe(seeded);
    expect(evaluate("$random(43)")).not.toBe(seeded);
  });

  it("$uuid comes from the injected source", () => {
    expect(evaluate("$uuid()")).toBe("00000000-0000-4000-8000-000000000000");
  });

  it("$parse reads JSON text", () => {
    expect(evaluate("$parse($states.input.s)", { s: '{"a":[1,true]}' })).toEqual({ a: [1, true] });
    expect(failure(() => evaluate("$parse('{')")).cause).toBe(
      "Output: $parse: the argument is not valid JSON text",
    );
  });

  it("$now and $millis give the decision's time, not the clock's", () => {
    expect(evaluate("$millis()")).toBe(1_700_000_000_000);
    expect(evaluate("$now()")).toBe("2023-11-14T22:13:20.000Z");
  });

  it("$eval is refused", () => {
    expect(failure(() => evaluate("$eval('1 + 1')"))).toEqual({
      error: "States.QueryEvaluationError",
      cause: "Output: $eval: is not supported: use $parse to read JSON text",
    });
  });

  it("$shuffle draws from the injected source", () => {
    expect(evaluate("$shuffle([1, 2, 3, 4])")).toEqual(evaluate("$shuffle([1, 2, 3, 4])"));
  });
});

describe("evaluation is bounded", () => {
  it("stops endless recursion as a stack overflow", () => {
    const e = failure(() => evaluate("($f := function($n) { 1 + $f($n + 1) }; $f(0))"));
    expect(e.error).toBe("States.QueryEvaluationError");
    expect(e.cause).toMatch(/stack overflow/);
  });

  it("stops a long loop after the step limit", () => {
    const e = failure(() =>
      evaluate("($loop := function($n) { $n > 0 ? $loop($n - 1) : 0 }; $sum([1..2000].($loop(1000))))"),
    );
    expect(e.cause).toBe(`Output: the evaluation took more than ${JSONATA_LIMITS.maxSteps} steps`);
  });

  it("stops a string that grows past the memory limit", () => {
    const e = failure(() => evaluate("$reduce([1..30], function($acc, $i) { $acc & $acc }, 'xy')"));
    expect(e.cause).toMatch(/^Output: memory limit exceeded: a string of \d+ characters/);
  });
});
