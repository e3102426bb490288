/**
 * Executions, newest first, with filters (workflow, status, start-time range, name prefix) kept
 * in the URL, and paging by the API's page tokens (a stack of them for "previous").
 */
import { useEffect, useState } from "react";
import { EXECUTION_STATUSES, api, statusLabel } from "../api";
import type { ExecutionSummary, WorkflowSummary } from "../api";
import { ErrorText, StatusBadge, Time } from "../components/common";
import { Link, navigate, useLocation } from "../router";

const PAGE_SIZE = 50;

/** "2026-12-03T14:05" (datetime-local, local time) → ISO, or undefined. */
function toIso(local: string | null): string | undefined {
  if (!local) return undefined;
  const ms = Date.parse(local);
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}

export function ExecutionList() {
  const { query } = useLocation();
  const filter = {
    workflow: query.get("workflow") ?? "",
    status: query.get("status") ?? "",
    prefix: query.get("prefix") ?? "",
    after: query.get("after") ?? "",
    before: query.get("before") ?? "",
  };
  const key = JSON.stringify(filter);
  const [form, setForm] = useState(filter);
  const [tokens, setTokens] = useState<string[]>([""]);
  const [page, setPage] = useState<{ executions: ExecutionSummary[]; next?: string }>();
  const [workflows, setWorkflows] = useState<WorkflowSummary[]>([]);
  const [error, setError] = useState<unknown>();

  useEffect(() => {
    api.listWorkflows().then((r) => setWorkflows(r.workflows ?? []), setError);
  }, []);
  useEffect(() => {
    setForm(filter);
    setTokens([""]);
  }, [key]);
  const token = tokens[tokens.length - 1] ?? "";
  useEffect(() => {
    setError(undefined);
    api
      .listExecutions({
        workflowName: filter.workflow,
        status: filter.status,
        namePrefix: filter.prefix,
        startedAfter: toIso(filter.after),
        startedBefore: toIso(filter.before),
        pageSize: PAGE_SIZE,
        pageToken: token,
      })
      .then((r) => setPage({ executions: r.executions ?? [], next: r.nextPageToken }), setError);
  }, [key, token]);

  const apply = () => {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(form)) if (v !== "") q.set(k, v);
    navigate(`/executions${q.size > 0 ? `?${q.toString()}` : ""}`);
  };
  const set = (field: keyof typeof form) => (e: { target: { value: string } }) =>
    setForm({ ...form, [field]: e.target.value });

  return (
    <section>
      <h1>Executions</h1>
      <form
        className="filters"
        data-testid="filters"
        onSubmit={(e) => {
          e.preventDefault();
          apply();
        }}
      >
        <label>
          workflow
          <select value={form.workflow} onChange={set("workflow")} data-testid="filter-workflow">
            <option value="">all</option>
            {workflows.map((w) => (
              <option key={w.name} value={w.name}>
                {w.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          status
          <select value={form.status} onChange={set("status")} data-testid="filter-status">
            <option value="">all</option>
            {EXECUTION_STATUSES.map((s) => (
              <option key={s} value={s}>
                {statusLabel(s)}
              </option>
            ))}
          </select>
        </label>
        <label>
          started after
          <input
            type="datetime-local"
            value={form.after}
            onChange={set("after")}
            data-testid="filter-after"
          />
        </label>
        <label>
          started before
          <input
            type="datetime-local"
            value={form.before}
            onChange={set("before")}
            data-testid="filter-before"
          />
        </label>
        <label>
          name starts with
          <input value={form.prefix} onChange={set("prefix")} data-testid="filter-prefix" />
        </label>
        <button type="submit" data-testid="filter-apply">
          Apply
        </button>
      </form>
      <ErrorText error={error} />
      {page === undefined ? (
        <p className="muted">loading…</p>
      ) : (
        <>
          <table data-testid="executions">
            <thead>
              <tr>
                <th>execution</th>
                <th>workflow</th>
                <th>status</th>
                <th>started</th>
                <th>stopped</th>
              </tr>
            </thead>
            <tbody>
              {page.executions.map((e) => (
                <tr key={e.executionId} data-testid="execution-row" data-execution={e.executionId}>
                  <td>
                    <Link to={`/executions/${encodeURIComponent(e.executionId)}`}>
                      {e.executionName || e.executionId}
                    </Link>
                  </td>
                  <td>
                    <Link
                      to={`/workflows/${encodeURIComponent(e.workflowName)}?version=${e.workflowVersion}`}
                    >
                      {e.workflowName} v{e.workflowVersion}
                    </Link>
                  </td>
                  <td>
                    <StatusBadge status={e.status} />
                  </td>
                  <td>
                    <Time iso={e.startTime} />
                  </td>
                  <td>
                    <Time iso={e.stopTime} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {page.executions.length === 0 ? <p className="muted">No execution matches.</p> : null}
          <div className="pager">
            <button disabled={tokens.length <= 1} onClick={() => setTokens(tokens.slice(0, -1))}>
              ← newer
            </button>
            <span className="muted">page {tokens.length}</span>
            <button
              disabled={!page.next}
              data-testid="next-page"
              onClick={() => page.next && setTokens([...tokens, page.next])}
            >
              older →
            </button>
          </div>
        </>
      )}
    </section>
  );
}
