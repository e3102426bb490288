/**
 * One execution: the graph coloured by each state's status, live while it runs (Server-Sent
 * Events read over fetch, so that they carry the token); the event timeline; input, output, error
 * and cause; the Map and Parallel children with counts by status; the open task tokens; stop, and
 * complete a task by token.
 */
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { ApiError, api, eventDetails, eventType, noteRefusal, readHistory } from "../api";
import type { Execution, HistoryEvent } from "../api";
import { buildGraph, parseDefinitionText, resolveMachinePath } from "../asl-graph";
import { ErrorText, JsonBlock, JsonEditor, StatusBadge, Time, useAction } from "../components/common";
import { Graph } from "../components/Graph";
import { authHeaders } from "../auth";
import {
  aggregateIterations,
  applyEvent,
  countByStatus,
  emptyView,
  innerCountsText,
  iterationsToRead,
} from "../execution-state";
import type { ChildRun, ChildStatus, Children, ExecutionView, StateStatus } from "../execution-state";
import { SseHttpError, readEventStream } from "../sse-reader";
import { Link } from "../router";

const RUNNING = "EXECUTION_STATUS_RUNNING";
/** Parallel branches whose own histories are read to colour the states inside them. */
const MAX_BRANCHES_SHOWN = 16;
/** Iterations of one Map read to colour its inner states (see iterationsToRead). */
const MAX_ITERATIONS_READ = 24;
/** Folded histories of finished children kept between refreshes. */
const MAX_CACHED_CHILDREN = 500;

function foldAll(events: HistoryEvent[], prefix = ""): ExecutionView {
  const view = emptyView();
  for (const event of events) applyEvent(view, event, prefix);
  return view;
}

function countsText(children: Children): string {
  const c = countByStatus(children);
  return [
    `${children.total} ${children.kind === "map" ? "items" : "branches"}`,
    c.succeeded ? `${c.succeeded} succeeded` : "",
    c.running ? `${c.running} running` : "",
    c.failed ? `${c.failed} failed` : "",
    c.pending ? `${c.pending} pending` : "",
  ]
    .filter(Boolean)
    .join(" · ");
}

function StopForm({ id, onDone }: { id: string; onDone: () => void }) {
  const [open, setOpen] = useState(false);
  const [error, setError] = useState("");
  const [cause, setCause] = useState("");
  const action = useAction();
  if (!open)
    return (
      <button className="danger" onClick={() => setOpen(true)} data-testid="stop-open">
        Stop…
      </button>
    );
  return (
    <div className="panel inline-form" data-testid="stop-form">
      <input placeholder="error (optional)" value={error} onChange={(e) => setError(e.target.value)} />
      <input placeholder="cause (optional)" value={cause} onChange={(e) => setCause(e.target.value)} />
      <button
        className="danger"
        disabled={action.busy}
        data-testid="stop-confirm"
        onClick={() =>
          action.run(async () => {
            await api.stopExecution(id, error, cause);
            setOpen(false);
            onDone();
          })
        }
      >
        Stop execution
      </button>
      <button onClick={() => setOpen(false)}>Cancel</button>
      <ErrorText error={action.error} />
    </div>
  );
}

function TaskForm({ token }: { token: string }) {
  const [output, setOutput] = useState("{}");
  const [error, setError] = useState("");
  const [cause, setCause] = useState("");
  const action = useAction();
  const [done, setDone] = useState<string>();
  if (done) return <p className="muted">{done}</p>;
  return (
    <div className="task-form">
      <JsonEditor value={output} onChange={setOutput} rows={3} testId="task-output" />
      <button
        disabled={action.busy}
        data-testid="task-success"
        onClick={() =>
          action.run(async () => {
            await api.sendTaskSuccess(token, output);
            setDone("completed");
          })
        }
      >
        Send success
      </button>
      <input placeholder="error" value={error} onChange={(e) => setError(e.target.value)} />
      <input placeholder="cause" value={cause} onChange={(e) => setCause(e.target.value)} />
      <button
        disabled={action.busy}
        onClick={() =>
          action.run(async () => {
            await api.sendTaskFailure(token, error, cause);
            setDone("failed");
          })
        }
      >
        Send failure
      </button>
      <ErrorText error={action.error} />
    </div>
  );
}

function ChildrenPanel({ name, children }: { name: string; children: Children }) {
  const [status, setStatus] = useState<ChildStatus | "">("");
  const [shown, setShown] = useState(100);
  const items = [...children.items.values()]
    .filter((i) => status === "" || i.status === status)
    .sort((a, b) => a.index - b.index);
  return (
    <div className="panel" data-testid="children" data-state={name}>
      <h3>
        {name}: {countsText(children)}
      </h3>
      <label>
        show{" "}
        <select value={status} onChange={(e) => setStatus(e.target.value as ChildStatus | "")}>
          <option value="">all</option>
          <option value="running">running</option>
          <option value="succeeded">succeeded</option>
          <option value="failed">failed</option>
        </select>
      </label>
      <table>
        <thead>
          <tr>
            <th>{children.kind === "map" ? "item" : "branch"}</th>
            <th>status</th>
            <th>execution</th>
          </tr>
        </thead>
        <tbody>
          {items.slice(0, shown).map((item) => (
            <tr key={item.index}>
              <td>{item.index}</td>
              <td className={`status-text-${item.status}`}>{item.status}</td>
              <td>
                <Link to={`/executions/${encodeURIComponent(item.executionId)}`}>{item.executionId}</Link>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {items.length > shown ? (
        <button onClick={() => setShown(shown + 100)}>show 100 more of {items.length - shown}</button>
      ) : null}
    </div>
  );
}

/** Rows rendered at first; a 10,000-item Map has some 30,000 events. */
const TIMELINE_ROWS = 200;

function Timeline({ events, stateName }: { events: HistoryEvent[]; stateName?: string }) {
  const [open, setOpen] = useState<number>();
  const [limit, setLimit] = useState(TIMELINE_ROWS);
  const all = stateName === undefined ? events : events.filter((e) => (e.stateName ?? "") === stateName);
  // The latest events matter most while it runs: the earlier ones come on demand.
  const hidden = Math.max(0, all.length - limit);
  const shown = all.slice(hidden);
  return (
    <>
      {hidden > 0 ? (
        <button onClick={() => setLimit(limit + 1000)}>
          show {Math.min(1000, hidden)} earlier of {hidden}
        </button>
      ) : null}
      <TimelineRows events={shown} open={open} setOpen={setOpen} />
    </>
  );
}

function TimelineRows({
  events: shown,
  open,
  setOpen,
}: {
  events: HistoryEvent[];
  open: number | undefined;
  setOpen: (id: number | undefined) => void;
}) {
  return (
    <table className="timeline" data-testid="timeline">
      <thead>
        <tr>
          <th>#</th>
          <th>time</th>
          <th>event</th>
          <th>state</th>
        </tr>
      </thead>
      <tbody>
        {shown.map((e) => (
          <tr
            key={e.eventId}
            onClick={() => setOpen(open === e.eventId ? undefined : e.eventId)}
            className="clickable"
          >
            <td>{e.eventId}</td>
            <td>
              <Time iso={e.timestamp} />
            </td>
            <td>
              <span className={`event-type event-${eventType(e)}`}>{eventType(e)}</span>
              {open === e.eventId ? <JsonBlock text={JSON.stringify(eventDetails(e))} /> : null}
            </td>
            <td>{e.stateName}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function StateDetails({
  name,
  events,
  status,
}: {
  name: string;
  events: HistoryEvent[];
  status?: StateStatus;
}) {
  const own = events.filter((e) => (e.stateName ?? "") === name);
  const last = (type: string) => [...own].reverse().find((e) => eventType(e) === type);
  const entered = last("stateEntered");
  const exited = last("stateExited");
  const failed = [...own]
    .reverse()
    .find((e) => ["taskFailed", "taskTimedOut", "mapFailed", "parallelFailed"].includes(eventType(e)));
  return (
    <div className="panel" data-testid="state-details">
      <h3>
        {name} <span className={`status-text-${status ?? "none"}`}>{status ?? "not reached"}</span>
      </h3>
      <h4>input</h4>
      <JsonBlock text={entered ? String(eventDetails(entered).inputJson ?? "") : undefined} />
      <h4>output</h4>
      <JsonBlock text={exited ? String(eventDetails(exited).outputJson ?? "") : undefined} />
      {failed ? (
        <>
          <h4>error</h4>
          <JsonBlock text={JSON.stringify(eventDetails(failed))} />
        </>
      ) : null}
      <h4>events</h4>
      <Timeline events={events} stateName={name} />
    </div>
  );
}

type Tab = "state" | "timeline" | "io" | "children" | "tasks";

export function ExecutionPage({ id }: { id: string }) {
  const [execution, setExecution] = useState<Execution>();
  const [events, setEvents] = useState<HistoryEvent[]>([]);
  const [definition, setDefinition] = useState<string>();
  const [inner, setInner] = useState<{ status: Map<string, StateStatus>; notes: Map<string, string> }>({
    status: new Map(),
    notes: new Map(),
  });
  const [live, setLive] = useState(false);
  const [error, setError] = useState<unknown>();
  const [selected, setSelected] = useState<string>();
  const [tab, setTab] = useState<Tab>("timeline");
  const [reload, setReload] = useState(0);
  const viewRef = useRef<ExecutionView>(emptyView());
  const [, setVersion] = useState(0);

  const refresh = useCallback(() => setReload((r) => r + 1), []);

  // Load the snapshot and whole history, then follow new events over SSE while it runs.
  useEffect(() => {
    const abort = new AbortController();
    let closed = false;
    setError(undefined);
    (async () => {
      const described = await api.describeExecution(id);
      const history = await readHistory(id);
      if (closed) return;
      viewRef.current = foldAll(history);
      setExecution(described);
      setEvents(history);
      setVersion((v) => v + 1);
      const started = history.find((e) => eventType(e) === "executionStarted");
      const workflow = await api.getWorkflow(
        described.execution.workflowName,
        described.execution.workflowVersion,
      );
      if (closed) return;
      const path = String((started && eventDetails(started).machinePath) ?? "");
      setDefinition(JSON.stringify({ text: workflow.definition, path }));
      if (described.execution.status !== RUNNING) return;
      // Events can arrive by the thousand (a large Map): fold each at once, render at most 5 times a second.
      let pending: HistoryEvent[] = [];
      let flush: ReturnType<typeof setTimeout> | undefined;
      let ended = false;
      await readEventStream(api.watchUrl(id, viewRef.current.lastEventId + 1), {
        headers: authHeaders,
        signal: abort.signal,
        isDone: () => ended,
        onOpen: () => setLive(true),
        onMessage: (message) => {
          if (message.event === "end") {
            ended = true;
            setLive(false);
            api.describeExecution(id).then(setExecution, setError);
            return;
          }
          if (message.event === "error") {
            // The server ended the stream with a status; the reader opens it again.
            setLive(false);
            return;
          }
          const { event } = JSON.parse(message.data) as { event: HistoryEvent };
          if (event.eventId <= viewRef.current.lastEventId) return;
          applyEvent(viewRef.current, event);
          pending.push(event);
          flush ??= setTimeout(() => {
            const arrived = pending;
            pending = [];
            flush = undefined;
            setEvents((all) => all.concat(arrived));
            setVersion((v) => v + 1);
          }, 200);
        },
        onError: (err, willRetry) => {
          setLive(false);
          if (err instanceof SseHttpError) {
            const refusal = new ApiError(err.httpStatus, err.code, err.message);
            noteRefusal(refusal);
            if (!willRetry) setError(refusal);
          }
        },
      });
    })().catch(setError);
    return () => {
      closed = true;
      abort.abort();
      setLive(false);
    };
  }, [id, reload]);

  const view = viewRef.current;
  const running = execution?.execution.status === RUNNING;

  // States inside Parallel branches and Map iterations: each is a child execution with its own
  // history. Branches are drawn one by one; a Map's inner states are coloured by the aggregate of
  // a bounded set of its iterations (iterationsToRead), so a 10,000-item Map costs a few reads.
  const childKey = [...view.children.entries()]
    .map(([name, c]) => {
      const counts = countByStatus(c);
      return `${name}:${c.kind}:${c.items.size}:${counts.running}:${counts.succeeded}:${counts.failed}`;
    })
    .join(";");
  const finishedViews = useRef(new Map<string, ExecutionView>());
  useEffect(() => {
    let cancelled = false;
    const cache = finishedViews.current;
    /** A child's history folded; finished children are read once. */
    const viewOf = async (child: ChildRun): Promise<ExecutionView> => {
      const cached = cache.get(child.executionId);
      if (cached) return cached;
      const folded = foldAll(await readHistory(child.executionId));
      if (child.status !== "running") {
        if (cache.size >= MAX_CACHED_CHILDREN) cache.clear();
        cache.set(child.executionId, folded);
      }
      return folded;
    };
    const load = async () => {
      const status = new Map<string, StateStatus>();
      const notes = new Map<string, string>();
      for (const [name, children] of view.children) {
        if (children.kind === "parallel") {
          for (const item of [...children.items.values()].slice(0, MAX_BRANCHES_SHOWN)) {
            const branch = await viewOf(item);
            for (const [state, s] of branch.status) status.set(`${name}/${item.index}/${state}`, s);
          }
          continue;
        }
        const read = iterationsToRead(children, MAX_ITERATIONS_READ);
        const views = await Promise.all(read.map(viewOf));
        for (const [state, summary] of aggregateIterations(views)) {
          status.set(`${name}/*/${state}`, summary.status);
          notes.set(
            `${name}/*/${state}`,
            `${innerCountsText(summary)}${read.length < children.total ? ` (of ${read.length} iterations read)` : ""}`,
          );
        }
      }
      if (!cancelled) setInner({ status, notes });
    };
    load().catch(() => undefined);
    const timer =
      running && childKey !== "" ? setInterval(() => void load().catch(() => undefined), 2000) : undefined;
    return () => {
      cancelled = true;
      if (timer) clearInterval(timer);
    };
  }, [childKey, running]);

  const graph = useMemo(() => {
    if (!definition) return undefined;
    try {
      const { text, path } = JSON.parse(definition) as { text: string; path: string };
      return buildGraph(resolveMachinePath(parseDefinitionText(text), path));
    } catch {
      return undefined;
    }
  }, [definition]);

  const status = new Map(view.status);
  for (const [k, v] of inner.status) status.set(k, v);
  const notes = new Map(inner.notes);
  for (const [name, children] of view.children) notes.set(name, countsText(children));

  if (error && !execution) return <ErrorText error={error} />;
  if (!execution) return <p className="muted">loading…</p>;
  const summary = execution.execution;
  const started = events.find((e) => eventType(e) === "executionStarted");
  const parent = started ? (eventDetails(started).parent as { executionId?: string } | undefined) : undefined;

  return (
    <section data-testid="execution-page" data-live={live ? "yes" : "no"}>
      <h1>
        <Link to="/executions">Executions</Link> / {summary.executionName || summary.executionId}{" "}
        <StatusBadge status={summary.status} />
        {live ? (
          <span className="live" data-testid="live">
            ● live
          </span>
        ) : null}
      </h1>
      <div className="toolbar">
        <span>
          workflow{" "}
          <Link
            to={`/workflows/${encodeURIComponent(summary.workflowName)}?version=${summary.workflowVersion}`}
          >
            {summary.workflowName} v{summary.workflowVersion}
          </Link>
        </span>
        <span>
          id <code>{summary.executionId}</code>
        </span>
        {parent?.executionId ? (
          <span>
            parent{" "}
            <Link to={`/executions/${encodeURIComponent(parent.executionId)}`}>{parent.executionId}</Link>
          </span>
        ) : null}
        <span>
          started <Time iso={summary.startTime} />
        </span>
        <span>
          stopped <Time iso={summary.stopTime} />
        </span>
        {running ? <StopForm id={id} onDone={refresh} /> : null}
      </div>
      <ErrorText error={error} />
      <div className="legend">
        {(["running", "retrying", "succeeded", "failed", "caught", "aborted"] as StateStatus[]).map((s) => (
          <span key={s} className={`legend-item status-${s}`}>
            <i /> {s}
          </span>
        ))}
      </div>
      <div className="columns">
        <div className="graph-box" onClick={() => setSelected(undefined)}>
          {graph ? (
            <Graph
              graph={graph}
              status={status}
              notes={notes}
              selected={selected}
              onSelect={(s) => {
                setSelected(s);
                setTab("state");
              }}
            />
          ) : (
            <p className="muted">drawing…</p>
          )}
        </div>
        <div className="side">
          <nav className="tabs">
            {(
              [
                ["state", "state"],
                ["timeline", `timeline (${events.length})`],
                ["io", "input / output"],
                ["children", `map & parallel (${view.children.size})`],
                ["tasks", `open tasks (${view.openTasks.size})`],
              ] as [Tab, string][]
            ).map(([t, label]) => (
              <button
                key={t}
                className={tab === t ? "active" : ""}
                onClick={() => setTab(t)}
                data-testid={`tab-${t}`}
              >
                {label}
              </button>
            ))}
          </nav>
          {tab === "state" ? (
            selected ? (
              <StateDetails name={selected} events={events} status={status.get(selected)} />
            ) : (
              <p className="muted">Click a state in the graph.</p>
            )
          ) : null}
          {tab === "timeline" ? <Timeline events={events} /> : null}
          {tab === "io" ? (
            <div className="panel">
              <h3>input</h3>
              <JsonBlock text={execution.inputJson} testId="execution-input" />
              <h3>output</h3>
              <JsonBlock text={execution.outputJson} testId="execution-output" />
              <h3>error</h3>
              <p data-testid="execution-error">{execution.error || <span className="muted">none</span>}</p>
              <h3>cause</h3>
              <JsonBlock text={execution.cause} testId="execution-cause" />
            </div>
          ) : null}
          {tab === "children" ? (
            view.children.size === 0 ? (
              <p className="muted">No Map or Parallel state has run.</p>
            ) : (
              [...view.children.entries()].map(([name, children]) => (
                <ChildrenPanel key={name} name={name} children={children} />
              ))
            )
          ) : null}
          {tab === "tasks" ? (
            view.openTasks.size === 0 ? (
              <p className="muted">No task is waiting.</p>
            ) : (
              [...view.openTasks.values()].map((task) => (
                <div className="panel" key={task.token} data-testid="open-task">
                  <h3>
                    {task.stateName}{" "}
                    <span className="muted">
                      ({task.activity}, attempt {task.attempt})
                    </span>
                  </h3>
                  <code className="token" data-testid="task-token">
                    {task.token}
                  </code>
                  <TaskForm token={task.token} />
                </div>
              ))
            )
          ) : null}
        </div>
      </div>
    </section>
  );
}
