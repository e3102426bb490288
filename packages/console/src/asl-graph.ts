/**
 * A workflow definition (ASL) as a graph to lay out: one node per state, Parallel and Map as
 * groups holding their branches' states, and an edge per transition (Next, Default, each Choice
 * rule, each Catch). Pure: no layout, no drawing.
 */
import { parse as parseYaml } from "yaml";

type Json = Record<string, unknown>;

export interface GraphNode {
  /** Unique in the graph: the state's path, e.g. "Fan out/0/Charge". */
  id: string;
  /** The state's name (or "Start"/"End"/"Branch 1"). */
  label: string;
  /** The ASL state type, or "start", "end", "branch", "processor" for the markers and groups. */
  kind: string;
  /** The states inside a Parallel (its branches) or a Map (its processor); a branch's states. */
  children: GraphNode[];
}

export interface GraphEdge {
  id: string;
  from: string;
  to: string;
  kind: "next" | "choice" | "default" | "catch" | "start" | "end";
  label?: string;
}

export interface WorkflowGraph {
  nodes: GraphNode[];
  edges: GraphEdge[];
}

/** Parses JSON or YAML ASL text; throws on text that is neither. */
export function parseDefinitionText(text: string): Json {
  const value: unknown = text.trimStart().startsWith("{") ? JSON.parse(text) : parseYaml(text);
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new Error("not an object");
  return value as Json;
}

const COMPARISON =
  /^(String|Numeric|Boolean|Timestamp)(Equals|LessThan|GreaterThan|LessThanEquals|GreaterThanEquals|Matches)(Path)?$/;
const OPERATORS: Record<string, string> = {
  Equals: "==",
  LessThan: "<",
  GreaterThan: ">",
  LessThanEquals: "<=",
  GreaterThanEquals: ">=",
  Matches: "matches",
};

/**
 * A Choice rule in one short line: `$.total > 100`, `And(2)`, `not $.ok == true`, or a JSONata
 * rule's Condition: `$states.input.total > 100`.
 */
export function summarizeRule(rule: Json): string {
  // A JSONata rule: its Condition's expression, without the {% %} delimiters.
  if (typeof rule.Condition === "string") return rule.Condition.replace(/^\{%\s*|\s*%\}$/g, "");
  if (typeof rule.Condition === "boolean") return String(rule.Condition);
  if (Array.isArray(rule.And)) return `all of ${rule.And.length}`;
  if (Array.isArray(rule.Or)) return `any of ${rule.Or.length}`;
  if (typeof rule.Not === "object" && rule.Not !== null) return `not ${summarizeRule(rule.Not as Json)}`;
  const variable = typeof rule.Variable === "string" ? rule.Variable : "?";
  for (const [key, value] of Object.entries(rule)) {
    const match = COMPARISON.exec(key);
    if (match) return `${variable} ${OPERATORS[match[2] ?? ""] ?? key} ${JSON.stringify(value)}`;
    if (key.startsWith("Is")) return `${variable} ${key}${value === false ? " = false" : ""}`;
  }
  if (typeof rule.Condition === "string") return rule.Condition;
  return "rule";
}

function short(text: string, max = 32): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function statesOf(machine: unknown): [string, Json][] {
  const states = (machine as Json | undefined)?.States;
  if (typeof states !== "object" || states === null) return [];
  return Object.entries(states as Json).filter(
    (e): e is [string, Json] => typeof e[1] === "object" && e[1] !== null,
  );
}

/** The Map's iteration machine (ItemProcessor, or the older Iterator). */
export function mapProcessor(state: Json): unknown {
  return state.ItemProcessor ?? state.Iterator;
}

/** Builds the graph of `machine`; ids of nested states start with `prefix`. */
function addMachine(
  machine: unknown,
  prefix: string,
  graph: WorkflowGraph,
  nodes: GraphNode[],
  top: boolean,
): void {
  const id = (name: string) => `${prefix}${name}`;
  const startAt = (machine as Json | undefined)?.StartAt;
  const startId = `${prefix}⟨start⟩`;
  const endId = `${prefix}⟨end⟩`;
  nodes.push({ id: startId, label: top ? "Start" : "", kind: "start", children: [] });
  if (typeof startAt === "string")
    graph.edges.push({ id: `${startId}->`, from: startId, to: id(startAt), kind: "start" });
  let ends = false;
  for (const [name, state] of statesOf(machine)) {
    const node: GraphNode = { id: id(name), label: name, kind: String(state.Type ?? "?"), children: [] };
    nodes.push(node);
    if (state.Type === "Parallel" && Array.isArray(state.Branches)) {
      state.Branches.forEach((branch, i) => {
        const group: GraphNode = {
          id: `${id(name)}/${i}`,
          label: `Branch ${i + 1}`,
          kind: "branch",
          children: [],
        };
        node.children.push(group);
        addMachine(branch, `${id(name)}/${i}/`, graph, group.children, false);
      });
    }
    if (state.Type === "Map") {
      addMachine(mapProcessor(state), `${id(name)}/*/`, graph, node.children, false);
    }
    const edge = (to: unknown, kind: GraphEdge["kind"], label?: string) => {
      if (typeof to !== "string") return;
      graph.edges.push({
        id: `${node.id}->${to}#${graph.edges.length}`,
        from: node.id,
        to: id(to),
        kind,
        label,
      });
    };
    edge(state.Next, "next");
    if (Array.isArray(state.Choices)) {
      for (const rule of state.Choices as Json[]) edge(rule.Next, "choice", short(summarizeRule(rule)));
    }
    edge(state.Default, "default", "default");
    if (Array.isArray(state.Catch)) {
      for (const catcher of state.Catch as Json[]) {
        const errors = Array.isArray(catcher.ErrorEquals) ? catcher.ErrorEquals.join(", ") : "";
        edge(catcher.Next, "catch", short(`catch ${errors}`));
      }
    }
    if (state.End === true || state.Type === "Succeed" || state.Type === "Fail") {
      ends = true;
      graph.edges.push({ id: `${node.id}->end`, from: node.id, to: endId, kind: "end" });
    }
  }
  if (ends) nodes.push({ id: endId, label: top ? "End" : "", kind: "end", children: [] });
}

/** The graph of a whole definition. */
export function buildGraph(definition: Json): WorkflowGraph {
  const graph: WorkflowGraph = { nodes: [], edges: [] };
  addMachine(definition, "", graph, graph.nodes, true);
  // An edge to a state that does not exist (an invalid definition) is dropped rather than drawn.
  const ids = new Set<string>();
  const visit = (nodes: GraphNode[]) =>
    nodes.forEach((n) => {
      ids.add(n.id);
      visit(n.children);
    });
  visit(graph.nodes);
  graph.edges = graph.edges.filter((e) => ids.has(e.from) && ids.has(e.to));
  return graph;
}

/**
 * The sub-machine a child execution runs: its machine path is JSON `[[state, branch], ...]`
 * (branch -1 for a Map's processor). Returns the root for "".
 */
export function resolveMachinePath(definition: Json, machinePath: string): Json {
  if (machinePath === "") return definition;
  let machine: Json = definition;
  for (const [name, branch] of JSON.parse(machinePath) as [string, number][]) {
    const state = (machine.States as Json | undefined)?.[name] as Json | undefined;
    const next =
      branch === -1 ? mapProcessor(state ?? {}) : (state?.Branches as unknown[] | undefined)?.[branch];
    if (typeof next !== "object" || next === null) throw new Error(`no sub-machine at ${machinePath}`);
    machine = next as Json;
  }
  return machine;
}
