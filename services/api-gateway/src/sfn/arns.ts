/**
 * Step Functions ARNs over jetflow's names, in the configured region and account:
 * - state machine `arn:aws:states:<region>:<account>:stateMachine:<workflow>`
 * - execution `arn:aws:states:<region>:<account>:execution:<workflow>:<name>`, where the name is
 *   the execution's name, or its id when it was started without one (through jetflow's own API)
 * - activity `arn:aws:states:<region>:<account>:activity:<activity>`
 * Parsing accepts any partition, region and account: they are not part of jetflow's names.
 */
import { isActivityName } from "@jetflow/contracts";
import { SfnError } from "./errors";

/** Where the ARNs live: AWS region and 12-digit account id. */
export interface ArnScope {
  region: string;
  account: string;
}

const PREFIX = /^arn:(aws[a-z-]*):states:([a-z0-9-]*):(\d{12}|):/;
const MAX_ARN_LENGTH = 2048;

/** The ARN of the state machine of workflow `name`. */
export function stateMachineArn(scope: ArnScope, name: string): string {
  return `arn:aws:states:${scope.region}:${scope.account}:stateMachine:${name}`;
}

/** The ARN of an execution of `workflow` named (or, without a name, identified) `name`. */
export function executionArn(scope: ArnScope, workflow: string, name: string): string {
  return `arn:aws:states:${scope.region}:${scope.account}:execution:${workflow}:${name}`;
}

/** The ARN of activity `name`. */
export function activityArn(scope: ArnScope, name: string): string {
  return `arn:aws:states:${scope.region}:${scope.account}:activity:${name}`;
}

/** The part of `arn` after the `arn:aws:states:<region>:<account>:` prefix, checked. */
function resourceOf(arn: unknown, field: string): string {
  if (typeof arn !== "string" || arn === "") {
    throw new SfnError("ValidationException", `1 validation error detected: ${field} must not be null`);
  }
  const match = arn.length <= MAX_ARN_LENGTH ? PREFIX.exec(arn) : null;
  if (match === null) throw new SfnError("InvalidArn", `Invalid Arn: '${arn.slice(0, 256)}'`);
  return arn.slice(match[0].length);
}

/**
 * The workflow name in a state machine ARN. Version and alias qualifiers (`:3`, `:prod`) are
 * refused: jetflow starts the latest version.
 * @throws SfnError InvalidArn naming the ARN
 */
export function parseStateMachineArn(arn: unknown, field = "stateMachineArn"): string {
  const resource = resourceOf(arn, field);
  const match = /^stateMachine:([^:]{1,80})$/.exec(resource);
  if (match === null) {
    throw new SfnError("InvalidArn", `Invalid Arn: 'Resource type not valid in this context: ${resource}'`);
  }
  return match[1] as string;
}

/**
 * The workflow and the execution name (or id) in an execution ARN.
 * @throws SfnError InvalidArn naming the ARN
 */
export function parseExecutionArn(arn: unknown, field = "executionArn"): { workflow: string; name: string } {
  const resource = resourceOf(arn, field);
  const match = /^execution:([^:]{1,80}):([^:]{1,80})$/.exec(resource);
  if (match === null) {
    throw new SfnError("InvalidArn", `Invalid Arn: 'Resource type not valid in this context: ${resource}'`);
  }
  return { workflow: match[1] as string, name: match[2] as string };
}

/**
 * The activity name in an activity ARN.
 * @throws SfnError InvalidArn naming the ARN
 */
export function parseActivityArn(arn: unknown, field = "activityArn"): string {
  const resource = resourceOf(arn, field);
  const match = /^activity:(.{1,80})$/.exec(resource);
  if (match === null || !isActivityName(match[1] as string)) {
    throw new SfnError("InvalidArn", `Invalid Arn: 'Resource type not valid in this context: ${resource}'`);
  }
  return match[1] as string;
}
