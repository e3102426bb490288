import type { Role } from "./roles";

/** Who is calling, as established by {@link authenticate}; recorded in history and logs. */
export interface Identity {
  /**
   * The JWT's `sub`, the static token's name, or the Step Functions access key id; "anonymous"
   * when auth is off.
   */
  readonly name: string;
  /** The strongest role the credentials carry. */
  readonly role: Role;
  /** When set, the identity may only touch workflows whose names start with one of these. */
  readonly workflowPrefixes?: readonly string[] | undefined;
  /** How the identity was established. */
  readonly via: "jwt" | "token" | "sigv4" | "none";
}

/** The identity of every call when authentication is off: full rights, recorded as nobody. */
export const ANONYMOUS: Identity = { name: "anonymous", role: "admin", via: "none" };
