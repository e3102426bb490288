/**
 * Colours for a terminal, and nothing when output goes to a file or a pipe. Follows the common
 * conventions: `NO_COLOR` turns colours off, `FORCE_COLOR` (other than "0") turns them on, and
 * `--color` / `--no-color` win over both.
 */

/** Text styles; each returns its argument unchanged when colours are off. */
export interface Style {
  readonly enabled: boolean;
  bold(text: string): string;
  dim(text: string): string;
  red(text: string): string;
  green(text: string): string;
  yellow(text: string): string;
  blue(text: string): string;
  magenta(text: string): string;
  cyan(text: string): string;
}

const CODES: Record<Exclude<keyof Style, "enabled">, [number, number]> = {
  bold: [1, 22],
  dim: [2, 22],
  red: [31, 39],
  green: [32, 39],
  yellow: [33, 39],
  blue: [34, 39],
  magenta: [35, 39],
  cyan: [36, 39],
};

/** A style that colours when `enabled`. */
export function createStyle(enabled: boolean): Style {
  const style: Record<string, unknown> = { enabled };
  for (const [name, [open, close]] of Object.entries(CODES)) {
    style[name] = enabled
      ? (text: string) => `\u001b[${open}m${text}\u001b[${close}m`
      : (text: string) => text;
  }
  return style as unknown as Style;
}

/**
 * Whether to colour output written to a stream: the `--color`/`--no-color` flag when given, else
 * `NO_COLOR` (off) / `FORCE_COLOR` (on), else whether the stream is a terminal.
 */
export function colorEnabled(
  isTTY: boolean | undefined,
  env: Readonly<Record<string, string | undefined>>,
  flag?: boolean,
): boolean {
  if (flag !== undefined) return flag;
  if (env["NO_COLOR"] !== undefined && env["NO_COLOR"] !== "") return false;
  if (env["FORCE_COLOR"] !== undefined) return env["FORCE_COLOR"] !== "0";
  return isTTY === true && env["TERM"] !== "dumb";
}

// CSI sequences (colours, cursor moves) take no room on screen.
// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*[A-Za-z]/g;

/** `text` without colour and cursor sequences. */
export function stripAnsi(text: string): string {
  return text.replace(ANSI, "");
}

/** How many columns `text` takes on screen (code points, escape sequences excluded). */
export function visibleWidth(text: string): number {
  return [...stripAnsi(text)].length;
}
