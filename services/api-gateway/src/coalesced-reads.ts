/**
 * Reads of one key shared by the callers that ask while a read of it is in flight, without ever
 * answering a caller from a read sent before it asked. A burst of starts of one workflow then reads
 * its `<name>.latest` key two or three times instead of once per start, and a start that follows a
 * RegisterWorkflow acknowledged before it still sees the new version (on any gateway replica).
 *
 * A caller that finds a read in flight cannot join it: that read may have reached the server before
 * a write the caller has seen acknowledged. It waits for the next read instead, sent once the one
 * in flight has settled and shared by everyone who arrives until then.
 */
export class CoalescedReads<K, V> {
  private readonly slots = new Map<K, { current: Promise<V>; next: Promise<V> | undefined }>();

  constructor(private readonly read: (key: K) => Promise<V>) {}

  /** The value of `key`, from a read sent after this call. */
  get(key: K): Promise<V> {
    const slot = this.slots.get(key);
    if (slot === undefined) return this.start(key);
    slot.next ??= slot.current.then(ignore, ignore).then(() => this.start(key));
    return slot.next;
  }

  private start(key: K): Promise<V> {
    const slot = { current: this.read(key), next: undefined as Promise<V> | undefined };
    this.slots.set(key, slot);
    void slot.current.then(ignore, ignore).then(() => {
      // The slot goes once its read has settled, unless callers wait for the next one.
      if (this.slots.get(key) === slot && slot.next === undefined) this.slots.delete(key);
    });
    return slot.current;
  }
}

function ignore(): void {}
