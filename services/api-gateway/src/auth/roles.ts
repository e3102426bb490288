/**
 * Roles and what each may call. Roles are ordered: an operator may do everything a reader may,
 * an admin everything an operator may. An identity may be scoped to workflow name prefixes.
 */
import { AuthError } from "./errors";
import type { Identity } from "./identity";

/** The roles, weakest first. */
export const ROLES = ["reader", "operator", "admin"] as const;
/** One of {@link ROLES}. */
export type Role = (typeof ROLES)[number];

/** True when `value` names a role. */
export function isRole(value: unknown): value is Role {
  return typeof value === "string" && (ROLES as readonly string[]).includes(value);
}

/**
 * The role each WorkflowService method needs. The HTTP layer maps its routes onto these names so
 * that both front doors refuse and allow the same things.
 */
export const METHOD_ROLES = {
  GetWorkflow: "reader",
  ListWorkflows: "reader",
  // Validation reads nothing stored and changes nothing: any caller with a role may use it.
  ValidateWorkflow: "reader",
  DescribeExecution: "reader",
  ListExecutions: "reader",
  GetExecutionHistory: "reader",
  WatchExecution: "reader",
  GetEngineStats: "reader",
  DescribeSchedule: "reader",
  ListSchedules: "reader",
  StartExecution: "operator",
  StopExecution: "operator",
  RedriveExecution: "operator",
  // A schedule starts executions: who may start them may schedule them.
  CreateSchedule: "operator",
  PauseSchedule: "operator",
  ResumeSchedule: "operator",
  DeleteSchedule: "operator",
  SendTaskSuccess: "operator",
  SendTaskFailure: "operator",
  SendTaskHeartbeat: "operator",
  RegisterWorkflow: "admin",
  // Operations (issue 17). Dead letters hold payloads, as executions' inputs do: readers may
  // read them; replaying changes executions; discarding destroys the only copy.
  ListDeadLetters: "reader",
  GetDeadLetter: "reader",
  ReplayDeadLetter: "operator",
  DiscardDeadLetter: "admin",
  DescribeBulkOperation: "reader",
  ListBulkOperations: "reader",
  StartBulkStop: "operator",
  StartBulkRedrive: "operator",
} as const satisfies Record<string, Role>;

/** A WorkflowService method name, as in the .proto. */
export type ApiMethod = keyof typeof METHOD_ROLES;

/** True when `role` includes the rights of `needed`. */
export function roleIncludes(role: Role, needed: Role): boolean {
  return ROLES.indexOf(role) >= ROLES.indexOf(needed);
}

/** True when the identity may act on the workflow `workflowName` (always, when unscoped). */
export function inScope(identity: Identity, workflowName: string): boolean {
  const prefixes = identity.workflowPrefixes;
  return prefixes === undefined || prefixes.some((prefix) => workflowName.startsWith(prefix));
}

/**
 * Checks that `identity` may call `method`, on `workflowName` when the call concerns one
 * (undefined: the role alone is checked; scoping is then the caller's job, e.g. filtering a list).
 * @throws AuthError "permission-denied" naming the missing role, or the workflow out of scope
 */
export function authorize(identity: Identity, method: ApiMethod, workflowName?: string): void {
  const needed = METHOD_ROLES[method];
  if (!roleIncludes(identity.role, needed)) {
    throw new AuthError(
      "permission-denied",
      `${method} needs the role "${needed}"; "${identity.name}" has "${identity.role}"`,
    );
  }
  if (workflowName !== undefined && !inScope(identity, workflowName)) {
    throw new AuthError(
      "permission-denied",
      `"${identity.name}" may not act on workflow "${workflowName}": it is limited to the prefixes ${JSON.stringify(identity.workflowPrefixes)}`,
    );
  }
}
