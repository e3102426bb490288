import type { JsonObject } from "./json";
import type { PathSegments } from "./problems";
import type { Validation } from "./validate-context";
import { suggestName } from "./validate-context";

/** Fields jetflow knows but does not implement, with the reason given to the user. */
export const UNSUPPORTED_FIELDS: Readonly<Record<string, string>> = Object.freeze({
  Credentials: "jetflow workers run with their own credentials",
  ItemReader: "jetflow reads Map items from the state input only",
  ItemBatcher: "jetflow does not batch Map items",
  ResultWriter: "jetflow returns Map results as the state's result only",
  Label: "jetflow has no Map Runs to label",
});

/**
 * Reports every field not in `allowed`: known-but-unsupported fields with their reason, fields
 * that belong elsewhere via `misplaced`, and typos with a "did you mean" hint. @internal
 */
export function checkUnknownFields(
  v: Validation,
  object: JsonObject,
  at: PathSegments,
  allowed: readonly string[],
  what: string,
  misplaced: (key: string) => string | undefined = () => undefined,
): void {
  for (const key of Object.keys(object)) {
    if (allowed.includes(key)) continue;
    const reason = Object.prototype.hasOwnProperty.call(UNSUPPORTED_FIELDS, key)
      ? UNSUPPORTED_FIELDS[key]
      : undefined;
    if (reason !== undefined) {
      v.add([...at, key], `"${key}" is not supported: ${reason}`);
      continue;
    }
    const elsewhere = misplaced(key);
    if (elsewhere !== undefined) {
      v.add([...at, key], elsewhere);
      continue;
    }
    const hint = suggestName(key, allowed);
    v.add(
      [...at, key],
      `unknown field "${key}" in ${what}${hint === undefined ? "" : `; did you mean "${hint}"?`}`,
    );
  }
}
