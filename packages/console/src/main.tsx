/**
 * The console's shell: the navigation bar with sign-in and sign-out, and the page for the current
 * path (or the sign-in, when the API refused the token).
 */
import { StrictMode, useEffect, useState } from "react";
import { authState, onAuthChange, signOut } from "./auth";
import { SignIn } from "./components/SignIn";
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

/** The auth state, re-rendering on each change. */
function useAuth() {
  const [auth, setAuth] = useState(authState);
  useEffect(() => onAuthChange(() => setAuth(authState())), []);
  return auth;
}

function App() {
  const { path } = useLocation();
  const auth = useAuth();
  const [signingIn, setSigningIn] = useState(false);
  useEffect(() => setSigningIn(false), [auth.token]);
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
        {auth.token !== "" ? (
          <span className="account">
            <span className="muted" data-testid="signed-in">
              signed in
            </span>{" "}
            <button onClick={signOut} data-testid="sign-out">
              Sign out
            </button>
          </span>
        ) : (
          <span className="account">
            <button onClick={() => setSigningIn(true)} data-testid="sign-in-open">
              Sign in
            </button>
          </span>
        )}
      </header>
      <main>
        {auth.signInReason !== undefined || signingIn ? (
          <SignIn
            reason={auth.signInReason}
            onCancel={auth.signInReason === undefined ? () => setSigningIn(false) : undefined}
          />
        ) : (
          // A new token reloads the page's data.
          <Page key={auth.token} />
        )}
      </main>
    </>
  );
}

createRoot(document.getElementById("root") as HTMLElement).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
