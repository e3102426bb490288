/** The sign-in form: a token field and the reason the API asked for one. */
import { useState } from "react";
import { signIn } from "../auth";

export function SignIn({ reason, onCancel }: { reason: string | undefined; onCancel?: () => void }) {
  const [token, setToken] = useState("");
  return (
    <section className="panel sign-in" data-testid="sign-in">
      <h1>Sign in</h1>
      {reason ? (
        <p className="error" role="alert" data-testid="sign-in-reason">
          {reason}
        </p>
      ) : null}
      <p className="muted">
        Paste an API token or a JWT. It is kept in this tab only (sessionStorage) and sent as{" "}
        <code>Authorization: Bearer …</code> with each call; signing out or closing the tab forgets it.
      </p>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (token.trim() !== "") signIn(token);
        }}
      >
        <input
          type="password"
          autoComplete="off"
          spellCheck={false}
          placeholder="token"
          value={token}
          onChange={(e) => setToken(e.target.value)}
          data-testid="token-input"
          aria-label="token"
        />{" "}
        <button type="submit" disabled={token.trim() === ""} data-testid="sign-in-button">
          Sign in
        </button>
        {onCancel ? (
          <>
            {" "}
            <button type="button" onClick={onCancel}>
              Cancel
            </button>
          </>
        ) : null}
      </form>
    </section>
  );
}
