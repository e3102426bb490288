/** Complete a task by its token (the callback pattern), for a token found in a log or a message. */
import { useState } from "react";
import { api } from "../api";
import { ErrorText, JsonEditor, useAction } from "../components/common";

export function TasksPage() {
  const [token, setToken] = useState("");
  const [output, setOutput] = useState("{}");
  const [error, setError] = useState("");
  const [cause, setCause] = useState("");
  const [done, setDone] = useState<string>();
  const action = useAction();
  const send = (success: boolean) =>
    action.run(async () => {
      setDone(undefined);
      if (success) await api.sendTaskSuccess(token.trim(), output);
      else await api.sendTaskFailure(token.trim(), error, cause);
      setDone(success ? "success sent" : "failure sent");
    });
  return (
    <section>
      <h1>Complete a task by token</h1>
      <div className="panel narrow">
        <label>
          task token
          <input value={token} onChange={(e) => setToken(e.target.value)} data-testid="token-input" />
        </label>
        <label>
          output (JSON)
          <JsonEditor value={output} onChange={setOutput} rows={5} />
        </label>
        <button disabled={action.busy || token === ""} onClick={() => send(true)}>
          Send success
        </button>
        <label>
          or fail it with error
          <input value={error} onChange={(e) => setError(e.target.value)} placeholder="States.TaskFailed" />
        </label>
        <label>
          cause
          <input value={cause} onChange={(e) => setCause(e.target.value)} />
        </label>
        <button disabled={action.busy || token === ""} onClick={() => send(false)}>
          Send failure
        </button>
        {done ? <p className="ok">{done}</p> : null}
        <ErrorText error={action.error} />
      </div>
    </section>
  );
}
