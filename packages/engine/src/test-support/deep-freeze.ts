/**
 * Freezes `value` and every plain object and array it reaches, so that a change in place throws
 * (the engine's modules are strict). Byte arrays cannot be frozen and are left as they are. For
 * tests that prove a fold or a decision leaves its input alone.
 */
export function deepFreeze<T>(value: T): T {
  if (typeof value !== "object" || value === null || Object.isFrozen(value)) return value;
  if (ArrayBuffer.isView(value) || value instanceof Date) return value;
  for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  return Object.freeze(value);
}
