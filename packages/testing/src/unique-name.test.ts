import { uniqueName } from "./unique-name";

describe("uniqueName", () => {
  it("appends an underscore and ten lowercase letters or digits to the prefix", () => {
    expect(uniqueName("runs")).toMatch(/^runs_[a-z0-9]{10}$/);
  });

  it("returns names valid as a stream name and as a single subject token", () => {
    for (const prefix of ["runs", "RUN-queue_1", ""]) {
      const name = uniqueName(prefix);
      expect(name).toMatch(/^[A-Za-z0-9_-]+$/);
      expect(name.startsWith(prefix)).toBe(true);
    }
  });

  it("returns a different name on every call", () => {
    const names = new Set(Array.from({ length: 10_000 }, () => uniqueName("t")));
    expect(names.size).toBe(10_000);
  });

  it("rejects a prefix with characters a subject token or stream name cannot hold", () => {
    expect(() => uniqueName("runs.eu")).toThrow(
      new TypeError(`invalid name prefix "runs.eu": use only letters, digits, "_" and "-"`),
    );
    expect(() => uniqueName("a b")).toThrow(TypeError);
    expect(() => uniqueName("a*")).toThrow(TypeError);
    expect(() => uniqueName("a>")).toThrow(TypeError);
  });
});
