import { WorkflowNames } from "./workflows";

describe("WorkflowNames", () => {
  it("keeps the names of workflows with a latest version, sorted, and pages after a name", () => {
    const names = new WorkflowNames();
    for (const key of [
      "zeta.latest",
      "alpha.1",
      "alpha.latest",
      "alpha.sha256.ab",
      "mid.latest",
      "beta.latest",
    ]) {
      names.apply({ key, operation: "PUT" });
    }
    names.apply({ key: "zeta.latest", operation: "PUT" });
    expect(names.page("", 10)).toEqual({ names: ["alpha", "beta", "mid", "zeta"], more: false });
    expect(names.page("", 2)).toEqual({ names: ["alpha", "beta"], more: true });
    expect(names.page("beta", 2)).toEqual({ names: ["mid", "zeta"], more: false });
    // A name removed between two pages does not break the walk.
    names.apply({ key: "mid.latest", operation: "DEL" });
    expect(names.page("mid", 2)).toEqual({ names: ["zeta"], more: false });
  });
});
