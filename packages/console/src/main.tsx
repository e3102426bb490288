/** The console's shell: the navigation bar and the page for the current path. */
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { ExecutionPage } from "./pages/Execution";
import { ExecutionList } from "./pages/Executions";
import { TasksPage } from "./pages/Tasks";
import { ValidatePage } from "./pages/Validate";
import { WorkflowList, WorkflowPage } from "./pages/Workflows";
import { Link, useLocation } from "./router";
import "./styles.css";

function Page() {
  const { path, query } = useLocation();
  const workflow = /^\/workflows\/([^/]+)$/.exec(path);
  if (workflow) {
    const name = decodeURIComponent(workflow[1] ?? "");
    return <WorkflowPage key={name} name={name} version={Number(query.get("version") ?? 0)} />;
  }
  const execution = /^\/executions\/([^/]+)$/.exec(path);
  if (execution) {
    const id = decodeURIComponent(execution[1] ?? "");
    return <ExecutionPage key={id} id={id} />;
  }
  if (path === "/executions") return <ExecutionList />;
  if (path === "/validate") return <ValidatePage />;
  if (path === "/tasks") return <TasksPage />;
  return <WorkflowList />;
}

function App() {
  const { path } = useLocation();
  const here = (prefix: string) =>
    path === prefix || (prefix !== "/" && path.startsWith(prefix)) ? "active" : "";
  return (
    <>
      <header>
        <span className="brand">jetflow</span>
        <Link to="/" className={path === "/" || path.startsWith("/workflows") ? "active" : ""}>
          Workflows
        </Link>
        <Link to="/executions" className={here("/executions")}>
          Executions
        </Link>
        <Link to="/validate" className={here("/validate")}>
          Validate
        </Link>
        <Link to="/tasks" className={here("/tasks")}>
          Tasks
        </Link>
        <a href="/openapi.json" className="right">
          API (OpenAPI)
        </a>
      </header>
      <main>
        <Page />
      </main>
    </>
  );
}

createRoot(document.getElementById("root") as HTMLElement).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
