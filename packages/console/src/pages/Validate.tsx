/**
 * Validate a definition pasted or uploaded (JSON or YAML): each problem listed with its line and
 * column and marked beside that line; a valid definition is drawn and can be registered.
 */
import { useMemo, useState } from "react";
import { api } from "../api";
import type { DefinitionProblem } from "../api";
import { buildGraph, parseDefinitionText } from "../asl-graph";
import { ErrorText, useAction } from "../components/common";
import { Graph } from "../components/Graph";
import { Link } from "../router";

const SAMPLE = `StartAt: Hello
States:
  Hello:
    Type: Pass
    Result: { greeting: hello }
    End: true
`;

export function ValidatePage() {
  const [text, setText] = useState(SAMPLE);
  const [checked, setChecked] = useState<{ text: string; problems: DefinitionProblem[] }>();
  const [name, setName] = useState("");
  const [registered, setRegistered] = useState<{ name: string; version: number }>();
  const action = useAction();
  const register = useAction();
  const validate = () =>
    action.run(async () => {
      const result = await api.validateWorkflow(text);
      setChecked({ text, problems: result.problems ?? [] });
    });
  const byLine = new Map<number, DefinitionProblem[]>();
  for (const p of checked?.problems ?? []) byLine.set(p.line ?? 0, [...(byLine.get(p.line ?? 0) ?? []), p]);
  const valid = checked !== undefined && checked.problems.length === 0;
  const graph = useMemo(() => {
    if (!valid || !checked) return undefined;
    try {
      return buildGraph(parseDefinitionText(checked.text));
    } catch {
      return undefined;
    }
  }, [valid, checked]);

  return (
    <section>
      <h1>Validate a definition</h1>
      <div className="toolbar">
        <label className="file">
          upload a file{" "}
          <input
            type="file"
            accept=".json,.yaml,.yml,.asl"
            onChange={(e) => {
              const file = e.target.files?.[0];
              if (file) void file.text().then(setText);
            }}
          />
        </label>
        <button onClick={validate} disabled={action.busy} data-testid="validate-button">
          Validate
        </button>
        {checked ? (
          <span data-testid="validate-result" className={valid ? "ok" : "error"}>
            {valid
              ? "valid"
              : `${checked.problems.length} problem${checked.problems.length === 1 ? "" : "s"}`}
          </span>
        ) : null}
      </div>
      <ErrorText error={action.error} />
      <div className="columns">
        <div className="editor">
          <textarea
            value={text}
            onChange={(e) => setText(e.target.value)}
            rows={24}
            spellCheck={false}
            data-testid="definition-input"
          />
          {checked && checked.problems.length > 0 ? (
            <ol className="source" data-testid="annotated-source">
              {checked.text.split("\n").map((line, i) => {
                const problems = byLine.get(i + 1);
                return (
                  <li key={i} className={problems ? "has-problem" : ""} data-line={i + 1}>
                    <span className="line-number">{i + 1}</span>
                    <code>{line || " "}</code>
                    {problems ? (
                      <span className="problem-markers">
                        {problems.map((p, j) => (
                          <span key={j}>⚠ {p.message}</span>
                        ))}
                      </span>
                    ) : null}
                  </li>
                );
              })}
            </ol>
          ) : null}
        </div>
        <div className="side">
          {checked && checked.problems.length > 0 ? (
            <ul className="problems" data-testid="problems">
              {checked.problems.map((p, i) => (
                <li key={i} data-testid="problem" data-line={p.line ?? 0}>
                  <span className="where">
                    {p.line ? `line ${p.line}, column ${p.column ?? 0}` : "no position"}
                    {p.path ? ` · ${p.path}` : ""}
                  </span>
                  <span>{p.message}</span>
                </li>
              ))}
            </ul>
          ) : null}
          {graph ? (
            <>
              <div className="graph-box">
                <Graph graph={graph} />
              </div>
              <div className="panel inline-form">
                <input placeholder="workflow name" value={name} onChange={(e) => setName(e.target.value)} />
                <button
                  disabled={register.busy || name === ""}
                  onClick={() =>
                    register.run(async () => {
                      const r = await api.registerWorkflow(name, checked?.text ?? text);
                      setRegistered({ name: r.name, version: r.version });
                    })
                  }
                >
                  Register
                </button>
                {registered ? (
                  <Link
                    to={`/workflows/${encodeURIComponent(registered.name)}?version=${registered.version}`}
                  >
                    {registered.name} version {registered.version}
                  </Link>
                ) : null}
                <ErrorText error={register.error} />
              </div>
            </>
          ) : null}
        </div>
      </div>
    </section>
  );
}
