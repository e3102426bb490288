/** Limits that protect the engine from oversized or hostile definitions. Every field is optional. */
export interface LoadOptions {
  /** Largest definition text, in UTF-8 bytes. Default 1 MiB (1,048,576). */
  maxDefinitionBytes?: number;
  /** Most states in the whole definition, counting every Parallel branch and Map processor. Default 10,000. */
  maxStates?: number;
  /** Deepest nesting of Parallel branches and Map processors inside each other. Default 10. */
  maxNestingDepth?: number;
  /** Deepest nesting of JSON objects and arrays anywhere in the definition. Default 128. */
  maxJsonDepth?: number;
  /** Most JSON values in the definition after YAML aliases are expanded. Default 1,000,000. */
  maxNodes?: number;
  /** Longest state name and activity name, in characters (Step Functions allows 80). Default 80. */
  maxNameLength?: number;
}

/** `LoadOptions` with every default filled in. */
export type Limits = Required<LoadOptions>;

/** The defaults used when a `LoadOptions` field is absent. */
export const DEFAULT_LIMITS: Limits = Object.freeze({
  maxDefinitionBytes: 1024 * 1024,
  maxStates: 10_000,
  maxNestingDepth: 10,
  maxJsonDepth: 128,
  maxNodes: 1_000_000,
  maxNameLength: 80,
});

/** Fills in defaults; throws a `RangeError` naming the option when a value is not a positive integer. */
export function resolveLimits(options: LoadOptions | undefined): Limits {
  const limits = { ...DEFAULT_LIMITS };
  if (options === undefined) return limits;
  for (const key of Object.keys(DEFAULT_LIMITS) as Array<keyof Limits>) {
    const value = options[key];
    if (value === undefined) continue;
    if (!Number.isSafeInteger(value) || value <= 0) {
      throw new RangeError(`load option "${key}" must be a positive integer, got ${String(value)}`);
    }
    limits[key] = value;
  }
  return limits;
}

/** Runtime bounds on what intrinsic functions may build, so one call cannot exhaust memory. */
export const RUNTIME_LIMITS = Object.freeze({
  /** Most elements `States.ArrayRange` may produce (Step Functions: 1000). */
  maxArrayRangeLength: 1000,
  /** Longest input to `States.Base64Encode`, `States.Base64Decode` and `States.Hash` (Step Functions: 10,000). */
  maxEncodeInputLength: 10_000,
  /** Longest string an intrinsic may take or produce (`States.Format`, `States.JsonToString`...): 256 KiB. */
  maxStringLength: 256 * 1024,
  /** Most elements an intrinsic may produce (`States.StringSplit`, `States.ArrayPartition`...). */
  maxArrayLength: 100_000,
  /** Deepest nesting of intrinsic calls inside one another (Step Functions: 10). */
  maxIntrinsicNesting: 10,
});
