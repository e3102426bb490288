import { StatesError } from "./errors";
import type { WaitState } from "./types";
import { waitUntilMs } from "./wait";

const entered = Date.UTC(2024, 0, 1, 0, 0, 0);
const wait = (fields: Partial<WaitState>): WaitState => ({ Type: "Wait", Next: "N", ...fields });

describe("waitUntilMs", () => {
  it("adds Seconds to the entry time", () => {
    expect(waitUntilMs(wait({ Seconds: 10 }), {}, entered)).toBe(entered + 10_000);
    expect(waitUntilMs(wait({ Seconds: 0 }), {}, entered)).toBe(entered);
  });

  it("reads SecondsPath after InputPath", () => {
    expect(waitUntilMs(wait({ InputPath: "$.w", SecondsPath: "$.s" }), { w: { s: 5 } }, entered)).toBe(
      entered + 5000,
    );
  });

  it("uses the instant of Timestamp and TimestampPath", () => {
    expect(waitUntilMs(wait({ Timestamp: "2016-03-14T01:59:00Z" }), {}, entered)).toBe(
      Date.UTC(2016, 2, 14, 1, 59),
    );
    expect(
      waitUntilMs(wait({ TimestampPath: "$.expirydate" }), { expirydate: "2016-03-14T01:59:00Z" }, entered),
    ).toBe(Date.UTC(2016, 2, 14, 1, 59));
  });

  it.each([
    [{ SecondsPath: "$.s" }, {}, `SecondsPath "$.s" matches nothing in the state's input`],
    [
      { SecondsPath: "$.s" },
      { s: -1 },
      'SecondsPath "$.s" selected -1, but it must be a non-negative integer',
    ],
    [
      { SecondsPath: "$.s" },
      { s: 100_000_000 },
      "SecondsPath selected 100000000, more than the limit of 99999999 seconds",
    ],
    [{ TimestampPath: "$.t" }, {}, `TimestampPath "$.t" matches nothing in the state's input`],
    [
      { TimestampPath: "$.t" },
      { t: "tomorrow" },
      'TimestampPath "$.t" gave "tomorrow", which is not an RFC 3339 timestamp such as "2016-03-14T01:59:00Z"',
    ],
    [
      { TimestampPath: "$.t" },
      { t: 5 },
      'TimestampPath "$.t" gave 5, which is not an RFC 3339 timestamp such as "2016-03-14T01:59:00Z"',
    ],
  ])("fails with States.Runtime for %j on %j", (fields, input, cause) => {
    expect(() => waitUntilMs(wait(fields), input, entered)).toThrow(
      new StatesError("States.Runtime", cause).message,
    );
  });
});
