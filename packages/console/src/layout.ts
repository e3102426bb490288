/**
 * Lays out a workflow graph with ELK's layered algorithm (elkjs): top to bottom, groups sized to
 * their contents, edges routed around nodes. Every position comes back in the root's coordinates.
 */
import ELK from "elkjs/lib/elk.bundled.js";
import type { ElkExtendedEdge, ElkNode } from "elkjs/lib/elk.bundled.js";
import type { GraphEdge, GraphNode, WorkflowGraph } from "./asl-graph";

export interface PlacedNode {
  node: GraphNode;
  x: number;
  y: number;
  width: number;
  height: number;
  depth: number;
}

export interface PlacedEdge {
  edge: GraphEdge;
  points: { x: number; y: number }[];
  label?: { x: number; y: number; width: number; text: string };
}

export interface Layout {
  width: number;
  height: number;
  nodes: PlacedNode[];
  edges: PlacedEdge[];
}

const elk = new ELK();
const CHAR_WIDTH = 7.2;
const LABEL_HEIGHT = 14;

function isGroup(node: GraphNode): boolean {
  return node.children.length > 0;
}

function toElkNode(node: GraphNode): ElkNode {
  if (isGroup(node)) {
    return {
      id: node.id,
      layoutOptions: { "elk.padding": "[top=30,left=12,bottom=12,right=12]" },
      children: node.children.map(toElkNode),
    };
  }
  if (node.kind === "start" || node.kind === "end") return { id: node.id, width: 18, height: 18 };
  return { id: node.id, width: Math.max(110, node.label.length * CHAR_WIDTH + 28), height: 44 };
}

/** Places every node and edge of `graph`. */
export async function layoutGraph(graph: WorkflowGraph): Promise<Layout> {
  const root: ElkNode = {
    id: "⟨root⟩",
    layoutOptions: {
      "elk.algorithm": "layered",
      "elk.direction": "DOWN",
      "elk.hierarchyHandling": "INCLUDE_CHILDREN",
      "elk.layered.spacing.nodeNodeBetweenLayers": "40",
      "elk.spacing.nodeNode": "30",
      "elk.spacing.edgeLabel": "4",
      "elk.edgeLabels.inline": "true",
      "elk.json.shapeCoords": "ROOT",
      "elk.json.edgeCoords": "ROOT",
    },
    children: graph.nodes.map(toElkNode),
    edges: graph.edges.map((e): ElkExtendedEdge => ({
      id: e.id,
      sources: [e.from],
      targets: [e.to],
      labels: e.label ? [{ text: e.label, width: e.label.length * 6.2 + 8, height: LABEL_HEIGHT }] : [],
    })),
  };
  const placed = await elk.layout(root);
  const byId = new Map<string, GraphNode>();
  const index = (nodes: GraphNode[]) =>
    nodes.forEach((n) => {
      byId.set(n.id, n);
      index(n.children);
    });
  index(graph.nodes);

  const nodes: PlacedNode[] = [];
  const walk = (children: ElkNode[] | undefined, depth: number) => {
    for (const child of children ?? []) {
      const node = byId.get(child.id);
      if (node) {
        nodes.push({
          node,
          x: child.x ?? 0,
          y: child.y ?? 0,
          width: child.width ?? 0,
          height: child.height ?? 0,
          depth,
        });
      }
      walk(child.children, depth + 1);
    }
  };
  walk(placed.children, 0);

  const edgesById = new Map(graph.edges.map((e) => [e.id, e]));
  const edges: PlacedEdge[] = [];
  const collectEdges = (node: ElkNode) => {
    for (const edge of (node.edges ?? []) as ElkExtendedEdge[]) {
      const source = edgesById.get(edge.id);
      if (!source) continue;
      const points = (edge.sections ?? []).flatMap((s) => [
        s.startPoint,
        ...(s.bendPoints ?? []),
        s.endPoint,
      ]);
      const label = edge.labels?.[0];
      edges.push({
        edge: source,
        points,
        label:
          label && label.text
            ? { x: label.x ?? 0, y: label.y ?? 0, width: label.width ?? 0, text: label.text }
            : undefined,
      });
    }
    for (const child of node.children ?? []) collectEdges(child);
  };
  collectEdges(placed);
  return { width: placed.width ?? 0, height: placed.height ?? 0, nodes, edges };
}
