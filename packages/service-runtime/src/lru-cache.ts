/**
 * A bounded map that forgets the least recently used entry first. Reads and writes are O(1): a
 * JavaScript Map keeps insertion order, so moving an entry to the end marks it as recently used.
 */
export class LruCache<K, V> {
  readonly #entries = new Map<K, V>();

  /** `capacity` is the most entries kept; 0 keeps nothing. */
  constructor(readonly capacity: number) {}

  /** The number of entries held. */
  get size(): number {
    return this.#entries.size;
  }

  /** The value under `key`, marking it recently used; undefined when absent. */
  get(key: K): V | undefined {
    const value = this.#entries.get(key);
    if (value === undefined) return undefined;
    this.#entries.delete(key);
    this.#entries.set(key, value);
    return value;
  }

  /** Stores `value` under `key` as the most recently used entry, evicting the oldest beyond capacity. */
  set(key: K, value: V): void {
    if (this.capacity <= 0) return;
    this.#entries.delete(key);
    this.#entries.set(key, value);
    while (this.#entries.size > this.capacity) {
      const oldest = this.#entries.keys().next();
      if (oldest.done === true) break;
      this.#entries.delete(oldest.value);
    }
  }

  /** Forgets `key`. */
  delete(key: K): void {
    this.#entries.delete(key);
  }
}
