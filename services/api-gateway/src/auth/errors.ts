/**
 * Refusals of the auth layer. `unauthenticated` messages never say why (which token was wrong, or
 * how): the reason goes to the gateway's log only, as `reason`.
 */
export class AuthError extends Error {
  override readonly name = "AuthError";
  constructor(
    readonly kind: "unauthenticated" | "permission-denied",
    message: string,
    /** Why authentication failed, for the log; never sent to the client. */
    readonly reason?: string,
  ) {
    super(message);
  }
}

/** The one message every unauthenticated call gets. */
export const UNAUTHENTICATED_MESSAGE = "missing or invalid credentials";
