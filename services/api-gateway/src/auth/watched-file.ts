/**
 * A configuration file that may change while the gateway runs (API tokens, a JWT public key). It
 * is re-read when its directory reports a change (fs.watch; a Kubernetes Secret volume swaps a
 * symlink there, an editor or `mv` replaces the file) and every `reloadIntervalMs` in case an
 * event is missed. A new text that does not parse leaves the previous value in force and is
 * logged at `error`, once per distinct problem.
 */
import { readFileSync, watch } from "node:fs";
import type { FSWatcher } from "node:fs";
import { dirname } from "node:path";
import { ConfigError } from "@jetflow/service-runtime";
import type { Logger } from "@jetflow/service-runtime";

export interface WatchedFileOptions<T> {
  /** The file's path. */
  file: string;
  /** The variable naming it, for start-up errors (`API_TOKENS_FILE`). */
  variable: string;
  /** How often the file is re-read besides on change events, in ms. */
  reloadIntervalMs: number;
  log: Pick<Logger, "info" | "error" | "warn">;
  /** The value of a text, or the problems that make it unusable (each naming its line if it can). */
  parse: (text: string) => { value: T; problems: string[] };
  /** Logged at info with `file` when a new value is in force. */
  reloadedMessage: string;
  /** Logged at error with `file` and `problems` when a new text is refused. */
  refusedMessage: string;
  /** Extra fields of the "reloaded" log line. */
  describe?: (value: T) => Record<string, unknown>;
}

/** See the module comment. */
export class WatchedFile<T> {
  #value: T;
  #text: string;
  #failing = "";
  #watcher: FSWatcher | undefined;
  #timer: NodeJS.Timeout | undefined;
  #debounce: NodeJS.Timeout | undefined;

  /**
   * Reads the file once: at start a bad file stops the gateway rather than running without it.
   * @throws ConfigError naming the variable, the file and each problem
   */
  constructor(private readonly options: WatchedFileOptions<T>) {
    const { file, variable } = options;
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (err) {
      throw new ConfigError([
        `${variable}: cannot read "${file}": ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
      ]);
    }
    const { value, problems } = options.parse(text);
    if (problems.length > 0) throw new ConfigError(problems.map((p) => `${variable} "${file}" ${p}`));
    this.#text = text;
    this.#value = value;
  }

  /** The value in force. */
  get value(): T {
    return this.#value;
  }

  /** Re-reads the file now; true when the value changed. Never throws. */
  reload(): boolean {
    const { file, log } = this.options;
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (err) {
      this.#fail([`cannot read "${file}": ${(err as NodeJS.ErrnoException).code ?? String(err)}`]);
      return false;
    }
    if (text === this.#text) return false;
    const { value, problems } = this.options.parse(text);
    if (problems.length > 0) {
      this.#fail(problems);
      return false;
    }
    this.#text = text;
    this.#failing = "";
    this.#value = value;
    log.info({ file, ...this.options.describe?.(value) }, this.options.reloadedMessage);
    return true;
  }

  /** Starts watching the file. */
  start(): void {
    const { file, reloadIntervalMs, log } = this.options;
    this.#timer = setInterval(() => this.reload(), reloadIntervalMs);
    this.#timer.unref();
    try {
      // The directory, not the file: an editor or the kubelet replaces the file (a new inode), and
      // a watch on the old one would go quiet.
      this.#watcher = watch(dirname(file), { persistent: false }, () => {
        // A burst of events for one save (truncate, write, rename) becomes one read.
        clearTimeout(this.#debounce);
        this.#debounce = setTimeout(() => this.reload(), 50);
        this.#debounce.unref();
      });
      this.#watcher.on("error", (err) => log.warn({ err, file }, "file watch failed; polling only"));
    } catch (err) {
      log.warn({ err, file }, "file cannot be watched; polling only");
    }
  }

  /** Stops watching. */
  stop(): void {
    clearInterval(this.#timer);
    clearTimeout(this.#debounce);
    this.#watcher?.close();
  }

  #fail(problems: string[]): void {
    const text = problems.join("\n");
    if (text !== this.#failing) {
      this.options.log.error({ file: this.options.file, problems }, this.options.refusedMessage);
    }
    this.#failing = text;
  }
}
