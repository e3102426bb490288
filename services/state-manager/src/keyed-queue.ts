/**
 * Runs tasks one at a time per key, in the order they were added, while tasks of different keys
 * run concurrently. The state-manager queues the commits of one execution here, so two commits
 * that arrive back to back are applied in arrival order instead of racing each other into a
 * self-inflicted conflict.
 */
export class KeyedQueue {
  readonly #tails = new Map<string, Promise<void>>();

  /** Keys with queued or running tasks. */
  get activeKeys(): number {
    return this.#tails.size;
  }

  /**
   * Runs `task` after every task queued earlier under `key` has settled, and settles like it.
   * A failed task does not stop the ones queued after it.
   */
  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    const result = previous.then(task);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.#tails.set(key, tail);
    // Forget the key once its last task settled, so the map holds only busy executions.
    void tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
    return result;
  }
}
