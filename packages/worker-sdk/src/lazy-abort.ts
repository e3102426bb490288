/**
 * An abort switch whose AbortSignal is made only when someone asks for it. Most handlers never
 * read `ctx.signal`, and an AbortController with its signal (an EventTarget) was 3.6% of a
 * worker's CPU per task; the reason is kept here either way, so the runner can ask whether the
 * task was aborted without making one.
 */
export class LazyAbort {
  #controller: AbortController | undefined;
  #aborted = false;
  #reason: unknown;

  /** The signal: already aborted, with the same reason, when asked for after `abort`. */
  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#aborted) this.#controller.abort(this.#reason);
    }
    return this.#controller.signal;
  }

  /** Why it was aborted; undefined until then. */
  get reason(): unknown {
    return this.#reason;
  }

  /** Aborts once: a second call changes nothing, as with AbortController. */
  abort(reason: unknown): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = reason;
    this.#controller?.abort(reason);
  }
}
