import { jsonNestingDepth } from "./json-depth";

describe("jsonNestingDepth", () => {
  it("counts objects and arrays, not brackets inside strings", () => {
    expect(jsonNestingDepth("1")).toBe(0);
    expect(jsonNestingDepth('{"a":[1,{"b":[]}]}')).toBe(4);
    expect(jsonNestingDepth('{"a":"[[[[\\"{{{"}')).toBe(1);
    expect(jsonNestingDepth("[[],[[]],[]]")).toBe(3);
  });

  it("stops once past the limit", () => {
    expect(jsonNestingDepth("[".repeat(1_000_000), 128)).toBe(129);
  });
});
