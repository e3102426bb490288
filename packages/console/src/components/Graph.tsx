/**
 * A workflow drawn as SVG from its ELK layout: states as boxes coloured by status, Parallel and
 * Map as nested groups (a Map's label carries its iteration counts, each inner state the counts of
 * the iterations read at it), transitions as arrows with
 * Choice rules and Catch errors as labels (Catch edges dashed).
 */
import { useEffect, useState } from "react";
import type { WorkflowGraph } from "../asl-graph";
import type { StateStatus } from "../execution-state";
import type { Layout, PlacedEdge, PlacedNode } from "../layout";

export interface GraphProps {
  graph: WorkflowGraph;
  /** Status by node id; states without one are drawn as not reached. */
  status?: ReadonlyMap<string, StateStatus>;
  /**
   * Counts by node id: a group's after its label ("3 items · 2 succeeded"), a state's (inside a
   * Map: "1 running · 5 succeeded") under its box and in its tooltip.
   */
  notes?: ReadonlyMap<string, string>;
  selected?: string;
  onSelect?: (id: string) => void;
}

function path(points: { x: number; y: number }[]): string {
  return points.map((p, i) => `${i === 0 ? "M" : "L"}${p.x},${p.y}`).join(" ");
}

function NodeBox({
  placed,
  status,
  note,
  selected,
  onSelect,
}: {
  placed: PlacedNode;
  status: StateStatus | undefined;
  note: string | undefined;
  selected: boolean;
  onSelect?: (id: string) => void;
}) {
  const { node, x, y, width, height } = placed;
  const statusClass = `status-${status ?? "none"}`;
  if (node.kind === "start" || node.kind === "end") {
    return (
      <circle
        className={`marker marker-${node.kind}`}
        cx={x + width / 2}
        cy={y + height / 2}
        r={width / 2}
        data-testid={`marker-${node.kind}`}
      >
        <title>{node.kind === "start" ? "start" : "end"}</title>
      </circle>
    );
  }
  const group = node.children.length > 0;
  return (
    <g
      className={`node ${group ? "group" : "state"} kind-${node.kind} ${statusClass}${selected ? " selected" : ""}`}
      data-testid="state"
      data-state={node.id}
      data-status={status ?? "none"}
      data-note={note}
      onClick={(e) => {
        e.stopPropagation();
        onSelect?.(node.id);
      }}
    >
      <rect x={x} y={y} width={width} height={height} rx={group ? 10 : 8} />
      {group ? (
        <text x={x + 10} y={y + 18} className="group-label">
          {node.label}
          <tspan className="kind"> {node.kind === "branch" ? "" : node.kind}</tspan>
          {note ? <tspan className="note"> {note}</tspan> : null}
        </text>
      ) : (
        <>
          <text x={x + width / 2} y={y + 19} textAnchor="middle" className="label">
            {node.label}
          </text>
          <text x={x + width / 2} y={y + 34} textAnchor="middle" className="kind">
            {node.kind}
            {status ? ` · ${status}` : ""}
          </text>
          {note ? (
            // A state inside a Map: how many of the iterations read are in each status there.
            <text x={x + width / 2} y={y + height + 11} textAnchor="middle" className="counts">
              {note}
            </text>
          ) : null}
        </>
      )}
      <title>{`${node.label} (${node.kind})${status ? `: ${status}` : ""}${note ? `\n${note}` : ""}`}</title>
    </g>
  );
}

function Edge({ placed }: { placed: PlacedEdge }) {
  const { edge, points, label } = placed;
  return (
    <g className={`edge edge-${edge.kind}`}>
      <path d={path(points)} markerEnd="url(#arrow)" />
      {label ? (
        <g className="edge-label">
          <rect x={label.x - 2} y={label.y - 1} width={label.width + 4} height={16} rx={3} />
          <text x={label.x + 2} y={label.y + 11}>
            {label.text}
          </text>
        </g>
      ) : null}
    </g>
  );
}

/** The graph, laid out once per `graph`. */
export function Graph({ graph, status, notes, selected, onSelect }: GraphProps) {
  const [layout, setLayout] = useState<Layout | undefined>();
  const [error, setError] = useState<string | undefined>();
  useEffect(() => {
    let current = true;
    // The layout engine is large: it loads with the first graph, not with the console.
    import("../layout")
      .then(({ layoutGraph }) => layoutGraph(graph))
      .then(
        (l) => current && setLayout(l),
        (err: unknown) => current && setError(String(err)),
      );
    return () => {
      current = false;
    };
  }, [graph]);
  if (error) return <p className="error">cannot lay out the graph: {error}</p>;
  if (!layout) return <p className="muted">laying out…</p>;
  // A group's label and counts may run past its box: widen the drawing to show them whole.
  const width = Math.max(
    layout.width,
    ...layout.nodes
      .filter((n) => n.node.children.length > 0)
      .map(
        (n) =>
          n.x + 16 + (n.node.label.length + n.node.kind.length + (notes?.get(n.node.id)?.length ?? 0)) * 7.4,
      ),
  );
  // Groups first (behind), deeper groups later, plain states last.
  const nodes = [...layout.nodes].sort(
    (a, b) => Number(b.node.children.length > 0) - Number(a.node.children.length > 0) || a.depth - b.depth,
  );
  return (
    <svg
      className="graph"
      data-testid="graph"
      width={width + 20}
      height={layout.height + 34}
      viewBox={`-10 -10 ${width + 20} ${layout.height + 34}`}
    >
      <defs>
        <marker
          id="arrow"
          viewBox="0 0 10 10"
          refX="9"
          refY="5"
          markerWidth="7"
          markerHeight="7"
          orient="auto"
        >
          <path d="M0,0 L10,5 L0,10 z" className="arrowhead" />
        </marker>
      </defs>
      {nodes
        .filter((n) => n.node.children.length > 0)
        .map((n) => (
          <NodeBox
            key={n.node.id}
            placed={n}
            status={status?.get(n.node.id)}
            note={notes?.get(n.node.id)}
            selected={selected === n.node.id}
            onSelect={onSelect}
          />
        ))}
      {layout.edges.map((e) => (
        <Edge key={e.edge.id} placed={e} />
      ))}
      {nodes
        .filter((n) => n.node.children.length === 0)
        .map((n) => (
          <NodeBox
            key={n.node.id}
            placed={n}
            status={status?.get(n.node.id)}
            note={notes?.get(n.node.id)}
            selected={selected === n.node.id}
            onSelect={onSelect}
          />
        ))}
    </svg>
  );
}
