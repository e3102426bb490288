/**
 * The console's credentials: one bearer token (a static API token or a JWT) kept in this tab's
 * sessionStorage, sent as `Authorization: Bearer …` on every call, live streams included. Never
 * in a URL nor a cookie, so no other site can make the browser use it (no CSRF surface), and it
 * is gone when the tab closes. A 401 from the API asks for it again.
 */

const STORAGE_KEY = "jetflow.token";

/** Whether the console must ask for a token, and why. */
export interface AuthState {
  /** The token in use; empty when none. */
  token: string;
  /** Set when the API refused the call for want of valid credentials: the sign-in says this. */
  signInReason: string | undefined;
}

/** The part of the Web Storage API used here (typed apart so that jest's node types check it). */
interface TokenStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

/** The tab's sessionStorage; undefined outside a browser. */
function storage(): TokenStorage | undefined {
  return (globalThis as { sessionStorage?: TokenStorage }).sessionStorage;
}

const listeners = new Set<() => void>();
let state: AuthState = { token: readStored(), signInReason: undefined };

function readStored(): string {
  try {
    return storage()?.getItem(STORAGE_KEY) ?? "";
  } catch {
    // Storage refused (a privacy setting): the token lives for this page only.
    return "";
  }
}

function update(next: AuthState): void {
  state = next;
  listeners.forEach((listener) => listener());
}

/** The current state; changes are announced to {@link onAuthChange} listeners. */
export function authState(): AuthState {
  return state;
}

/** Calls `listener` after every change; returns the unsubscribe function. */
export function onAuthChange(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** The headers that carry the token; none without one. */
export function authHeaders(): Record<string, string> {
  return state.token === "" ? {} : { authorization: `Bearer ${state.token}` };
}

/** Keeps `token` for this tab (surrounding whitespace dropped) and clears the sign-in request. */
export function signIn(token: string): void {
  const trimmed = token.trim();
  try {
    storage()?.setItem(STORAGE_KEY, trimmed);
  } catch {
    // See readStored.
  }
  update({ token: trimmed, signInReason: undefined });
}

/** Forgets the token. */
export function signOut(): void {
  try {
    storage()?.removeItem(STORAGE_KEY);
  } catch {
    // See readStored.
  }
  update({ token: "", signInReason: undefined });
}

/** Records that the API answered 401: the console shows the sign-in with a reason. */
export function requireSignIn(serverMessage: string): void {
  const reason =
    state.token === ""
      ? `This API needs a token: sign in (the server said: ${serverMessage}).`
      : `The token was refused: ${serverMessage}. It may be wrong, revoked or expired; sign in again.`;
  if (state.signInReason === reason) return;
  update({ ...state, signInReason: reason });
}
