import { compareTimestamps, parseTimestamp, timestampToMs } from "./timestamp";

describe("parseTimestamp", () => {
  it("reads the spec's example and offsets", () => {
    expect(timestampToMs(parseTimestamp("2016-03-14T01:59:00Z")!)).toBe(Date.UTC(2016, 2, 14, 1, 59, 0));
    expect(timestampToMs(parseTimestamp("2016-03-14T03:59:00+02:00")!)).toBe(Date.UTC(2016, 2, 14, 1, 59, 0));
    expect(timestampToMs(parseTimestamp("2016-03-13T23:59:00.250-02:00")!)).toBe(
      Date.UTC(2016, 2, 14, 1, 59, 0, 250),
    );
    expect(timestampToMs(parseTimestamp("0001-01-01T00:00:00Z")!)).toBe(-62135596800000);
    expect(parseTimestamp("2024-02-29T00:00:00Z")).toBeDefined();
  });

  it("keeps nanoseconds for exact comparisons", () => {
    const a = parseTimestamp("2016-03-14T01:59:00.000000001Z")!;
    const b = parseTimestamp("2016-03-14T01:59:00Z")!;
    expect(compareTimestamps(a, b)).toBeGreaterThan(0);
    expect(compareTimestamps(b, a)).toBeLessThan(0);
    expect(compareTimestamps(b, parseTimestamp("2016-03-14T01:59:00.000Z")!)).toBe(0);
  });

  it.each([
    "2016-03-14 01:59:00Z",
    "2016-03-14t01:59:00Z",
    "2016-03-14T01:59:00z",
    "2016-03-14T01:59:00",
    "2016-13-14T01:59:00Z",
    "2023-02-29T01:59:00Z",
    "1900-02-29T00:00:00Z",
    "2016-03-14T24:00:00Z",
    "2016-03-14T01:60:00Z",
    "2016-03-14T01:59:60Z",
    "2016-03-14T01:59:00+24:00",
    "2016-03-14T01:59:00.Z",
    "2016-03-14T01:59:00.1234567890Z",
    "16-03-14T01:59:00Z",
  ])("rejects %j", (text) => {
    expect(parseTimestamp(text)).toBeUndefined();
  });
});
