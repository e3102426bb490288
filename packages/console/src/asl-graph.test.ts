import { buildGraph, parseDefinitionText, resolveMachinePath, summarizeRule } from "./asl-graph";

const definition = parseDefinitionText(`
StartAt: Pick
States:
  Pick:
    Type: Choice
    Choices:
      - { Variable: $.n, NumericGreaterThan: 10, Next: Fan }
      - And: [{ Variable: $.a, IsPresent: true }, { Variable: $.b, StringEquals: x }]
        Next: Each
    Default: Fan
  Fan:
    Type: Parallel
    Next: Each
    Branches:
      - StartAt: B1
        States: { B1: { Type: Pass, End: true } }
    Catch: [{ ErrorEquals: [States.ALL], Next: Each }]
  Each:
    Type: Map
    End: true
    ItemProcessor:
      StartAt: Item
      States: { Item: { Type: Task, Resource: work, End: true } }
`);

describe("a definition as a graph", () => {
  it("has a node per state, groups for Parallel branches and the Map processor, and labelled edges", () => {
    const graph = buildGraph(definition);
    const fan = graph.nodes.find((n) => n.id === "Fan");
    expect(fan?.children.map((c) => c.id)).toEqual(["Fan/0"]);
    expect(fan?.children[0]?.children.map((c) => c.id)).toEqual(["Fan/0/⟨start⟩", "Fan/0/B1", "Fan/0/⟨end⟩"]);
    expect(graph.nodes.find((n) => n.id === "Each")?.children.map((c) => c.id)).toContain("Each/*/Item");
    const edges = graph.edges.map((e) => `${e.from} -${e.kind}${e.label ? `(${e.label})` : ""}-> ${e.to}`);
    expect(edges).toEqual(
      expect.arrayContaining([
        "⟨start⟩ -start-> Pick",
        "Pick -choice($.n > 10)-> Fan",
        "Pick -choice(all of 2)-> Each",
        "Pick -default(default)-> Fan",
        "Fan -next-> Each",
        "Fan -catch(catch States.ALL)-> Each",
        "Each -end-> ⟨end⟩",
        "Each/*/Item -end-> Each/*/⟨end⟩",
      ]),
    );
  });

  it("summarises Choice rules in one line", () => {
    expect(summarizeRule({ Variable: "$.s", StringEquals: "ok" })).toBe('$.s == "ok"');
    expect(summarizeRule({ Not: { Variable: "$.x", IsNull: true } })).toBe("not $.x IsNull");
    expect(summarizeRule({ Condition: "{% $states.input.total > 100 %}", Next: "Big" })).toBe(
      "$states.input.total > 100",
    );
  });

  it("finds a child execution's sub-machine from its machine path", () => {
    expect(Object.keys(resolveMachinePath(definition, '[["Each",-1]]').States as object)).toEqual(["Item"]);
    expect(Object.keys(resolveMachinePath(definition, '[["Fan",0]]').States as object)).toEqual(["B1"]);
    expect(() => resolveMachinePath(definition, '[["Pick",0]]')).toThrow("no sub-machine");
  });
});
