/**
 * A deep copy of a snapshot, or of any message object of the generated code: plain objects and
 * arrays copied, Dates and byte arrays copied, strings shared (they are immutable). The decision
 * copies the snapshot once per transition; structuredClone, used before, serialises every string
 * as well (the execution's input and output among them) and cost about 6% of the orchestrator's
 * CPU. Only the shapes the generated code makes are expected: no Maps, Sets, cycles or classes.
 */
export function deepCopy<T>(value: T): T {
  if (typeof value !== "object" || value === null) return value;
  if (Array.isArray(value)) return value.map((item: unknown) => deepCopy(item)) as T;
  if (value instanceof Date) return new Date(value.getTime()) as T;
  // Buffer.prototype.slice is a view, not a copy: Buffer.from copies and keeps the type.
  if (Buffer.isBuffer(value)) return Buffer.from(value) as T;
  if (value instanceof Uint8Array) return new Uint8Array(value) as T;
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(value)) copy[key] = deepCopy((value as Record<string, unknown>)[key]);
  return copy as T;
}
