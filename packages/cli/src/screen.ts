/**
 * Output for `jetflow watch`: permanent lines, plus on a terminal a few status lines kept at the
 * bottom and redrawn in place (progress bars), at most every `redrawMs`.
 */

import { stripAnsi, visibleWidth } from "./style";

/** Where a screen writes. */
export interface ScreenOutput {
  write(text: string): void;
  /** Terminal width; status lines are cut to fit, so redrawing in place never meets a wrapped line. */
  readonly columns?: number;
}

const UP_AND_CLEAR = (lines: number) => `\u001b[${lines}A\r\u001b[J`;

/** Lines for people: permanent ones, and (when `live`) status lines redrawn in place. */
export class Screen {
  private readonly status = new Map<string, string>();
  private drawn = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly out: ScreenOutput,
    /** Whether the output is a terminal that understands cursor moves. */
    readonly live: boolean,
    private readonly redrawMs = 100,
  ) {}

  /** Prints a permanent line above the status lines. */
  line(text: string): void {
    this.out.write(this.erase() + text + "\n" + this.draw());
  }

  /** Sets (or with `undefined` removes) the status line `key`; live screens only. */
  setStatus(key: string, text: string | undefined): void {
    if (!this.live) return;
    if (text === undefined) this.status.delete(key);
    else this.status.set(key, text);
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.out.write(this.erase() + this.draw());
    }, this.redrawMs);
  }

  /** Removes every status line and stops redrawing. */
  close(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.status.clear();
    const erase = this.erase();
    if (erase !== "") this.out.write(erase);
  }

  private erase(): string {
    const text = this.drawn > 0 ? UP_AND_CLEAR(this.drawn) : "";
    this.drawn = 0;
    return text;
  }

  private draw(): string {
    if (!this.live || this.status.size === 0) return "";
    const width = (this.out.columns ?? 0) - 1;
    const fit = (line: string) =>
      width > 0 && visibleWidth(line) > width ? [...stripAnsi(line)].slice(0, width).join("") : line;
    const lines = [...this.status.values()].map(fit);
    this.drawn = lines.length;
    return lines.join("\n") + "\n";
  }
}
