/**
 * Authentication and authorization of API calls, shared by the gRPC server and the HTTP layer:
 * `authenticate(headers) → Identity`, then `authorize(identity, method, workflowName)`.
 */
export { createAuthenticator, hashToken } from "./authenticate";
export type { AuthFiles, Authenticator, RequestHeaders } from "./authenticate";
export { PublicKeyFile, parsePublicKey } from "./key-file";
export { readAuthConfig } from "./config";
export { TokenFile, parseTokenFile } from "./token-file";
export type { TokenFileOptions } from "./token-file";
export type { AuthConfig, JwtConfig, StaticToken } from "./config";
export { AuthError, UNAUTHENTICATED_MESSAGE } from "./errors";
export { ANONYMOUS } from "./identity";
export type { Identity } from "./identity";
export { METHOD_ROLES, ROLES, authorize, inScope, isRole, roleIncludes } from "./roles";
export type { ApiMethod, Role } from "./roles";
