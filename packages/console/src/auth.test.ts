import { authHeaders, authState, onAuthChange, requireSignIn, signIn, signOut } from "./auth";

describe("the console's token", () => {
  afterEach(() => signOut());

  it("is sent as a bearer header once signed in, and not after signing out", () => {
    expect(authHeaders()).toEqual({});
    signIn("  secret-token \n");
    expect(authHeaders()).toEqual({ authorization: "Bearer secret-token" });
    signOut();
    expect(authHeaders()).toEqual({});
  });

  it("asks for a token with a reason that tells a missing token from a refused one", () => {
    const changes: (string | undefined)[] = [];
    const unsubscribe = onAuthChange(() => changes.push(authState().signInReason));
    try {
      requireSignIn("missing or invalid credentials");
      expect(authState().signInReason).toBe(
        "This API needs a token: sign in (the server said: missing or invalid credentials).",
      );
      signIn("wrong");
      expect(authState().signInReason).toBeUndefined();
      requireSignIn("missing or invalid credentials");
      // Several calls refused at once ask once.
      requireSignIn("missing or invalid credentials");
      expect(authState().signInReason).toBe(
        "The token was refused: missing or invalid credentials. It may be wrong, revoked or expired; sign in again.",
      );
      expect(changes).toHaveLength(3);
    } finally {
      unsubscribe();
    }
  });
});
