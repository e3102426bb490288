/** The workflows: a list of the latest versions, and one workflow's versions drawn as graphs. */
import { useEffect, useMemo, useState } from "react";
import { api } from "../api";
import type { WorkflowSummary } from "../api";
import { buildGraph, parseDefinitionText } from "../asl-graph";
import { ErrorText, JsonEditor, Time, useAction } from "../components/common";
import { Graph } from "../components/Graph";
import { Link, navigate } from "../router";

export function WorkflowList() {
  const [workflows, setWorkflows] = useState<WorkflowSummary[]>();
  const [error, setError] = useState<unknown>();
  useEffect(() => {
    (async () => {
      const all: WorkflowSummary[] = [];
      let token: string | undefined;
      do {
        const page = await api.listWorkflows(token);
        all.push(...(page.workflows ?? []));
        token = page.nextPageToken;
      } while (token);
      setWorkflows(all);
    })().catch(setError);
  }, []);
  return (
    <section>
      <h1>Workflows</h1>
      <ErrorText error={error} />
      {workflows === undefined ? (
        <p className="muted">loading…</p>
      ) : workflows.length === 0 ? (
        <p className="muted">No workflow is registered yet.</p>
      ) : (
        <table data-testid="workflows">
          <thead>
            <tr>
              <th>name</th>
              <th>latest version</th>
              <th>description</th>
              <th>registered</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {workflows.map((w) => (
              <tr key={w.name}>
                <td>
                  <Link to={`/workflows/${encodeURIComponent(w.name)}`}>{w.name}</Link>
                </td>
                <td>{w.version}</td>
                <td>{w.description}</td>
                <td>
                  <Time iso={w.createdTime} />
                </td>
                <td>
                  <Link to={`/executions?workflow=${encodeURIComponent(w.name)}`}>executions</Link>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function StartForm({ name, version }: { name: string; version: number }) {
  const [input, setInput] = useState("{}");
  const [executionName, setExecutionName] = useState("");
  const action = useAction();
  const start = () =>
    action.run(async () => {
      const { executionId } = await api.startExecution(
        name,
        version,
        input.trim() === "" ? "{}" : input,
        executionName,
      );
      navigate(`/executions/${encodeURIComponent(executionId)}`);
    });
  return (
    <div className="panel" data-testid="start-form">
      <h2>Start an execution</h2>
      <label>
        input (JSON)
        <JsonEditor value={input} onChange={setInput} testId="start-input" />
      </label>
      <label>
        execution name (optional; the same name and input start it only once)
        <input
          value={executionName}
          onChange={(e) => setExecutionName(e.target.value)}
          data-testid="start-name"
        />
      </label>
      <button onClick={start} disabled={action.busy} data-testid="start-button">
        Start version {version}
      </button>
      <ErrorText error={action.error} />
    </div>
  );
}

export function WorkflowPage({ name, version }: { name: string; version: number }) {
  const [loaded, setLoaded] = useState<{
    latest: number;
    shown: number;
    definition: string;
    description?: string;
  }>();
  const [error, setError] = useState<unknown>();
  useEffect(() => {
    setError(undefined);
    (async () => {
      const latest = await api.getWorkflow(name, 0);
      const shown = version === 0 ? latest : await api.getWorkflow(name, version);
      setLoaded({
        latest: latest.workflow.version,
        shown: shown.workflow.version,
        definition: shown.definition,
        description: shown.workflow.description,
      });
    })().catch(setError);
  }, [name, version]);
  const graph = useMemo(() => {
    if (!loaded) return undefined;
    try {
      return buildGraph(parseDefinitionText(loaded.definition));
    } catch {
      return undefined;
    }
  }, [loaded]);
  return (
    <section>
      <h1>
        <Link to="/">Workflows</Link> / {name}
      </h1>
      <ErrorText error={error} />
      {loaded ? (
        <>
          <div className="toolbar">
            <label>
              version{" "}
              <select
                value={loaded.shown}
                data-testid="version-select"
                onChange={(e) => navigate(`/workflows/${encodeURIComponent(name)}?version=${e.target.value}`)}
              >
                {Array.from({ length: loaded.latest }, (_, i) => loaded.latest - i).map((v) => (
                  <option key={v} value={v}>
                    {v}
                    {v === loaded.latest ? " (latest)" : ""}
                  </option>
                ))}
              </select>
            </label>
            <Link to={`/executions?workflow=${encodeURIComponent(name)}`}>its executions</Link>
          </div>
          {loaded.description ? <p>{loaded.description}</p> : null}
          <div className="columns">
            <div className="graph-box">
              {graph ? <Graph graph={graph} /> : <p className="error">cannot draw</p>}
            </div>
            <div className="side">
              <StartForm name={name} version={loaded.shown} />
              <details className="panel">
                <summary>definition</summary>
                <pre className="json">{loaded.definition}</pre>
              </details>
            </div>
          </div>
        </>
      ) : null}
    </section>
  );
}
