/** Small pieces shared by the pages: status badges, JSON blocks, a JSON editor, errors, times. */
import { useState } from "react";
import { ApiError, Code, statusLabel } from "../api";

export function StatusBadge({ status }: { status: string | undefined }) {
  const label = statusLabel(status);
  return (
    <span className={`badge badge-${label.replace(" ", "-")}`} data-testid="execution-status">
      {label}
    </span>
  );
}

/** JSON text pretty-printed when it parses, as is otherwise. */
export function JsonBlock({ text, testId }: { text: string | undefined; testId?: string }) {
  if (text === undefined || text === "") return <p className="muted">none</p>;
  let shown = text;
  try {
    shown = JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    // Not JSON (a cause, say): shown as it is.
  }
  return (
    <pre className="json" data-testid={testId}>
      {shown}
    </pre>
  );
}

/** A textarea for JSON that says, as you type, whether and where the text is not JSON. */
export function JsonEditor({
  value,
  onChange,
  rows = 8,
  testId,
}: {
  value: string;
  onChange: (text: string) => void;
  rows?: number;
  testId?: string;
}) {
  let problem: string | undefined;
  try {
    if (value.trim() !== "") JSON.parse(value);
  } catch (err) {
    problem = (err as Error).message;
  }
  return (
    <div className="json-editor">
      <textarea
        value={value}
        rows={rows}
        spellCheck={false}
        data-testid={testId}
        onChange={(e) => onChange(e.target.value)}
      />
      {problem ? <p className="error">not JSON: {problem}</p> : null}
    </div>
  );
}

/**
 * An error as the user reads it. A refusal for want of a role says so and quotes the server,
 * whose message names the role needed and the one held.
 */
export function ErrorText({ error }: { error: unknown }) {
  if (error === undefined || error === null) return null;
  if (error instanceof ApiError && error.code === Code.PERMISSION_DENIED) {
    return (
      <p className="error" role="alert" data-testid="permission-denied">
        Permission denied: {error.message}
      </p>
    );
  }
  if (error instanceof ApiError && error.code === Code.UNAUTHENTICATED) {
    return (
      <p className="error" role="alert" data-testid="unauthenticated">
        Not signed in: {error.message}
      </p>
    );
  }
  return (
    <p className="error" role="alert">
      {error instanceof Error ? error.message : String(error)}
    </p>
  );
}

export function Time({ iso }: { iso: string | undefined }) {
  if (!iso) return <span className="muted">—</span>;
  const date = new Date(iso);
  return <time dateTime={iso}>{date.toLocaleString(undefined, { hour12: false })}</time>;
}

/** Runs an async action with a busy flag and its error. */
export function useAction(): {
  busy: boolean;
  error: unknown;
  run: (action: () => Promise<void>) => void;
} {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  return {
    busy,
    error,
    run: (action) => {
      setBusy(true);
      setError(undefined);
      action().then(
        () => setBusy(false),
        (err: unknown) => {
          setBusy(false);
          setError(err);
        },
      );
    },
  };
}
