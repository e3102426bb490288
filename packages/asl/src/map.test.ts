import { StatesError } from "./errors";
import { mapItemInput, mapItems, mapProcessor, maxConcurrency, toleratedFailures } from "./map";
import { stateOutput } from "./data-flow";
import { testEnv } from "./test-env.test-helper";
import type { ItemProcessor, MapState } from "./types";

const env = testEnv();
const processor: ItemProcessor = {
  StartAt: "Validate",
  States: { Validate: { Type: "Task", Resource: "ship-val", End: true } },
};
const input = {
  "ship-date": "2016-03-14T01:59:00Z",
  detail: {
    "delivery-partner": "UQS",
    shipped: [
      { prod: "R31", "dest-code": 9511, quantity: 1344 },
      { prod: "S39", "dest-code": 9511, quantity: 40 },
    ],
  },
};

describe("the specification's Validate-All example", () => {
  const state: MapState = {
    Type: "Map",
    InputPath: "$.detail",
    ItemsPath: "$.shipped",
    MaxConcurrency: 0,
    ItemSelector: {
      "parcel.$": "$$.Map.Item.Value",
      "courier.$": "$.delivery-partner",
      "index.$": "$$.Map.Item.Index",
    },
    ItemProcessor: processor,
    ResultPath: "$.detail.shipped",
    End: true,
  };

  it("selects the items after InputPath", () => {
    expect(mapItems(state, input, env)).toEqual(input.detail.shipped);
  });

  it("builds each iteration's input with $$.Map.Item", () => {
    expect(mapItemInput(state, input, 1, input.detail.shipped[1]!, env)).toEqual({
      parcel: { prod: "S39", "dest-code": 9511, quantity: 40 },
      courier: "UQS",
      index: 1,
    });
  });

  it("passes the item itself without ItemSelector", () => {
    expect(mapItemInput({ ...state, ItemSelector: undefined }, input, 0, "x", env)).toBe("x");
  });

  it("accepts the deprecated Parameters and Iterator", () => {
    const old: MapState = {
      Type: "Map",
      Parameters: { "v.$": "$$.Map.Item.Value" },
      Iterator: processor,
      End: true,
    };
    expect(mapItemInput(old, [1], 0, 1, env)).toEqual({ v: 1 });
    expect(mapProcessor(old)).toBe(processor);
    expect(mapProcessor(state)).toBe(processor);
  });

  it("places the results array with ResultPath", () => {
    expect(stateOutput(state, input, ["ok", "ok"], env)).toEqual({
      "ship-date": "2016-03-14T01:59:00Z",
      detail: { "delivery-partner": "UQS", shipped: ["ok", "ok"] },
    });
  });
});

describe("mapItems", () => {
  const state: MapState = { Type: "Map", ItemProcessor: processor, End: true };

  it("defaults ItemsPath to $ and allows an empty array", () => {
    expect(mapItems(state, [])).toEqual([]);
    expect(mapItems(state, [1, 2])).toEqual([1, 2]);
  });

  it("fails with States.Runtime when the items are not an array", () => {
    expect(() => mapItems(state, { a: 1 })).toThrow(
      new StatesError("States.Runtime", 'ItemsPath "$" selected an object, but a Map state needs an array')
        .message,
    );
    expect(() => mapItems({ ...state, ItemsPath: "$.items" }, {})).toThrow(
      `States.Runtime: ItemsPath "$.items" matches nothing in the state's input`,
    );
  });
});

describe("toleratedFailures", () => {
  const state: MapState = { Type: "Map", ItemProcessor: processor, End: true };

  it("tolerates nothing by default", () => {
    expect(toleratedFailures(state, {}, 10)).toEqual({ maxFailures: 0 });
  });

  it("turns a percentage into a count of items, rounding down", () => {
    expect(toleratedFailures({ ...state, ToleratedFailurePercentage: 25 }, {}, 10)).toEqual({
      maxFailures: 2,
    });
    expect(toleratedFailures({ ...state, ToleratedFailurePercentage: 7 }, {}, 300)).toEqual({
      maxFailures: 21,
    });
    expect(toleratedFailures({ ...state, ToleratedFailurePercentage: 100 }, {}, 10)).toEqual({
      maxFailures: 10,
    });
    expect(toleratedFailures({ ...state, ToleratedFailurePercentage: 50 }, {}, 0)).toEqual({
      maxFailures: 0,
    });
  });

  it("takes the stricter of count and percentage", () => {
    expect(
      toleratedFailures({ ...state, ToleratedFailureCount: 3, ToleratedFailurePercentage: 50 }, {}, 10),
    ).toEqual({ maxFailures: 3 });
    expect(
      toleratedFailures({ ...state, ToleratedFailureCount: 9, ToleratedFailurePercentage: 50 }, {}, 10),
    ).toEqual({ maxFailures: 5 });
  });

  it("reads the path forms after InputPath", () => {
    const dynamic: MapState = {
      ...state,
      InputPath: "$.cfg",
      ToleratedFailureCountPath: "$.count",
      ToleratedFailurePercentagePath: "$.pct",
    };
    expect(toleratedFailures(dynamic, { cfg: { count: 4, pct: 30 } }, 10)).toEqual({ maxFailures: 3 });
    expect(() => toleratedFailures(dynamic, { cfg: { count: 4, pct: 130 } }, 10)).toThrow(
      'States.Runtime: ToleratedFailurePercentagePath "$.pct" selected 130, but it must be a number from 0 to 100',
    );
  });
});

describe("maxConcurrency", () => {
  const state: MapState = { Type: "Map", ItemProcessor: processor, End: true };

  it("is 0 (unlimited) by default and reads MaxConcurrencyPath", () => {
    expect(maxConcurrency(state, {})).toBe(0);
    expect(maxConcurrency({ ...state, MaxConcurrency: 1 }, {})).toBe(1);
    expect(maxConcurrency({ ...state, MaxConcurrencyPath: "$.c" }, { c: 5 })).toBe(5);
    expect(() => maxConcurrency({ ...state, MaxConcurrencyPath: "$.c" }, { c: -1 })).toThrow(
      'States.Runtime: MaxConcurrencyPath "$.c" selected -1, but it must be a non-negative integer',
    );
  });
});
