import type { EvaluationEnv } from "./context";
import { isJsonataState, jsonataTaskTimeouts } from "./jsonata-states";
import { AslValidationError, ErrorNames, StatesError } from "./errors";
import type { Json } from "./json";
import { MAX_SECONDS, resolveNumberSetting } from "./settings";
import type { TaskState } from "./types";

const ACTIVITY_ARN = /^arn:[A-Za-z0-9-]+:states:[^:]*:[^:]*:activity:(.*)$/;
const BRACKETS = new Set(["<", ">", "{", "}", "[", "]"]);
const WILDCARDS = new Set(["?", "*"]);
const SPECIAL = new Set(['"', "#", "%", "\\", "^", "|", "~", "`", "$", "&", ",", ";", ":", "/"]);
const RULE =
  'an activity name may not contain whitespace, control characters, < > { } [ ] ? * or " # % \\ ^ | ~ ` $ & , ; : /';

function codePoint(char: string): string {
  return `U+${(char.codePointAt(0) as number).toString(16).toUpperCase().padStart(4, "0")}`;
}

/** What is wrong with the character `char` of an activity name, or undefined if nothing. */
function badCharacter(char: string): string | undefined {
  const code = char.codePointAt(0) as number;
  if (code <= 0x1f || (code >= 0x7f && code <= 0x9f)) return `the control character ${codePoint(char)}`;
  if (/^\s$/u.test(char)) return `whitespace (${codePoint(char)})`;
  if (code >= 0xd800 && code <= 0xdfff) return `a lone surrogate (${codePoint(char)})`;
  if (BRACKETS.has(char)) return `the bracket "${char}"`;
  if (WILDCARDS.has(char)) return `the wildcard "${char}"`;
  if (SPECIAL.has(char)) return `the special character ${JSON.stringify(char)}`;
  return undefined;
}

/**
 * Checks a Task's Resource and returns the activity name, or a message saying what is wrong. An
 * activity name may be any name Step Functions accepts for an activity: 1 to `maxLength`
 * characters (Unicode code points), no whitespace, no control characters, none of
 * `< > { } [ ] ? *` and none of ``" # % \ ^ | ~ ` $ & , ; : /``. The engine encodes it into a NATS
 * subject token (`encodeActivityToken` in @jetflow/contracts, which checks the same rule for workers).
 * @internal
 */
export function checkActivityResource(
  resource: string,
  maxLength: number,
): { ok: true; name: string } | { ok: false; message: string } {
  let name = resource;
  if (resource.startsWith("arn:")) {
    const match = ACTIVITY_ARN.exec(resource);
    if (match === null) {
      return {
        ok: false,
        message: `resource ${JSON.stringify(resource)} is not supported: jetflow runs activities only; use an activity name such as "send-email" or an ARN arn:aws:states:<region>:<account>:activity:<name>`,
      };
    }
    name = match[1] as string;
  }
  if (name === "") return { ok: false, message: "activity name must not be empty" };
  const chars = [...name];
  if (chars.length > maxLength) {
    return {
      ok: false,
      message: `activity name ${JSON.stringify(name)} is ${chars.length} characters long; the limit is ${maxLength}`,
    };
  }
  for (const [index, char] of chars.entries()) {
    const bad = badCharacter(char);
    if (bad !== undefined) {
      return {
        ok: false,
        message: `activity name ${JSON.stringify(name)} contains ${bad} at character ${index + 1}; ${RULE}`,
      };
    }
  }
  return { ok: true, name };
}

/**
 * The activity a Task's Resource names: `send-email` as is, or the `<name>` of
 * `arn:aws:states:<region>:<account>:activity:<name>`. Throws `AslValidationError` for anything
 * else (other ARNs, names Step Functions would refuse for an activity).
 */
export function activityName(resource: string): string {
  const checked = checkActivityResource(resource, Number.MAX_SAFE_INTEGER);
  if (!checked.ok) throw new AslValidationError([{ path: "Resource", message: checked.message }]);
  return checked.name;
}

/**
 * A Task's timeout and heartbeat in seconds, from TimeoutSeconds/HeartbeatSeconds or their
 * `...Path` forms, which read the state's input after InputPath (before Parameters). Absent means
 * no limit: jetflow has no default task timeout. Throws `StatesError` `States.Runtime` when a path
 * misses, the value is not a positive integer up to 99,999,999, or the heartbeat is not shorter.
 */
export function taskTimeouts(
  state: TaskState,
  rawInput: Json,
  env?: EvaluationEnv,
): { timeoutSeconds?: number; heartbeatSeconds?: number } {
  if (isJsonataState(state)) return jsonataTaskTimeouts(state, rawInput, env);
  const out: { timeoutSeconds?: number; heartbeatSeconds?: number } = {};
  const timeout =
    state.TimeoutSecondsPath !== undefined
      ? resolveNumberSetting(
          state,
          rawInput,
          "TimeoutSecondsPath",
          state.TimeoutSecondsPath,
          "positive integer",
          env,
        )
      : (state.TimeoutSeconds as number | undefined);
  const heartbeat =
    state.HeartbeatSecondsPath !== undefined
      ? resolveNumberSetting(
          state,
          rawInput,
          "HeartbeatSecondsPath",
          state.HeartbeatSecondsPath,
          "positive integer",
          env,
        )
      : (state.HeartbeatSeconds as number | undefined);
  for (const [field, value] of [
    ["timeout", timeout],
    ["heartbeat", heartbeat],
  ] as const) {
    if (value !== undefined && value > MAX_SECONDS) {
      throw new StatesError(
        ErrorNames.Runtime,
        `${field} of ${value} seconds exceeds the limit of ${MAX_SECONDS}`,
      );
    }
  }
  if (timeout !== undefined && heartbeat !== undefined && heartbeat >= timeout) {
    throw new StatesError(
      ErrorNames.Runtime,
      `heartbeat of ${heartbeat} seconds must be shorter than the timeout of ${timeout} seconds`,
    );
  }
  if (timeout !== undefined) out.timeoutSeconds = timeout;
  if (heartbeat !== undefined) out.heartbeatSeconds = heartbeat;
  return out;
}
