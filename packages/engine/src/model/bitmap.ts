/** A set of small integers stored as bytes (a Map's completed children); Buffer because ts-proto maps `bytes` to it. */

/** A bitmap able to hold `size` bits, all clear. */
export function emptyBitmap(size: number): Buffer {
  return Buffer.alloc(Math.ceil(size / 8));
}

/** True when bit `index` is set. */
export function hasBit(bitmap: Uint8Array, index: number): boolean {
  const byte = bitmap[index >> 3];
  return byte !== undefined && (byte & (1 << (index & 7))) !== 0;
}

/** Returns a copy of `bitmap` with bit `index` set (growing it when needed). */
export function withBit(bitmap: Uint8Array, index: number): Buffer {
  const needed = (index >> 3) + 1;
  const copy = Buffer.alloc(Math.max(bitmap.length, needed));
  copy.set(bitmap);
  copy[index >> 3] = (copy[index >> 3] ?? 0) | (1 << (index & 7));
  return copy;
}
