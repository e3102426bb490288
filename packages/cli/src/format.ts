/** Small pure formatters shared by the commands: statuses, durations, times, JSON previews, tables. */
import { ExecutionStatus } from "@jetflow/contracts";
import type { Style } from "./style";
import { visibleWidth } from "./style";

/** The status names the CLI prints and accepts (`--status`). */
export const STATUS_NAMES = ["RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"] as const;
export type StatusName = (typeof STATUS_NAMES)[number];

const BY_NAME: Record<StatusName, ExecutionStatus> = {
  RUNNING: ExecutionStatus.EXECUTION_STATUS_RUNNING,
  SUCCEEDED: ExecutionStatus.EXECUTION_STATUS_SUCCEEDED,
  FAILED: ExecutionStatus.EXECUTION_STATUS_FAILED,
  TIMED_OUT: ExecutionStatus.EXECUTION_STATUS_TIMED_OUT,
  ABORTED: ExecutionStatus.EXECUTION_STATUS_ABORTED,
};

/** `SUCCEEDED` for `EXECUTION_STATUS_SUCCEEDED`; `UNKNOWN` for anything else. */
export function statusName(status: ExecutionStatus | undefined): StatusName | "UNKNOWN" {
  for (const name of STATUS_NAMES) if (BY_NAME[name] === status) return name;
  return "UNKNOWN";
}

/** The status named `text` (any case, `-` or `_`: `timed-out`), or undefined. */
export function parseStatus(text: string): ExecutionStatus | undefined {
  const name = text.trim().toUpperCase().replace(/-/g, "_");
  return (STATUS_NAMES as readonly string[]).includes(name) ? BY_NAME[name as StatusName] : undefined;
}

/** Whether an execution with this status has ended. */
export function isTerminal(status: ExecutionStatus | undefined): boolean {
  return (
    status !== undefined &&
    status !== ExecutionStatus.EXECUTION_STATUS_RUNNING &&
    statusName(status) !== "UNKNOWN"
  );
}

/** The status name in its colour: green for success, red for failure, and so on. */
export function paintStatus(style: Style, name: string): string {
  switch (name) {
    case "SUCCEEDED":
      return style.green(name);
    case "FAILED":
      return style.red(name);
    case "TIMED_OUT":
      return style.yellow(name);
    case "ABORTED":
      return style.magenta(name);
    case "RUNNING":
      return style.cyan(name);
    default:
      return name;
  }
}

/** A duration for people: `850ms`, `3.2s`, `4m 05s`, `2h 03m`, `3d 04h`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return "-";
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(Math.floor(ms / 100) / 10).toFixed(1)}s`;
  const s = Math.floor(ms / 1000);
  const pad = (n: number) => String(n).padStart(2, "0");
  if (s < 3600) return `${Math.floor(s / 60)}m ${pad(s % 60)}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h ${pad(Math.floor(s / 60) % 60)}m`;
  return `${Math.floor(s / 86_400)}d ${pad(Math.floor(s / 3600) % 24)}h`;
}

/** A point in time in local time, `2025-11-26 14:03:07`; `-` when unknown. */
export function formatTime(date: Date | undefined): string {
  if (date === undefined || Number.isNaN(date.getTime())) return "-";
  const pad = (n: number) => String(n).padStart(2, "0");
  return (
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ` +
    `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`
  );
}

/** Parses a JSON text from the server, or returns it as a string when it is not JSON. */
export function parseJsonText(text: string): unknown {
  if (text === "") return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** JSON text on one line, cut to `max` characters with `…`. */
export function previewJson(text: string, max = 120): string {
  let compact = text;
  try {
    compact = JSON.stringify(JSON.parse(text));
  } catch {
    // Not JSON: show it as it is.
  }
  return truncate(compact, max);
}

/** `text` cut to `max` characters, ending in `…` when cut. */
export function truncate(text: string, max: number): string {
  const chars = [...text];
  return chars.length <= max ? text : `${chars.slice(0, Math.max(0, max - 1)).join("")}…`;
}

/** JSON text indented by two spaces, for `describe`. */
export function prettyJson(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

/** Columns padded to their widest cell; the header line is bold. Trailing spaces are trimmed. */
export function renderTable(
  style: Style,
  headers: readonly string[],
  rows: readonly (readonly string[])[],
): string {
  const widths = headers.map((h, i) =>
    Math.max(visibleWidth(h), ...rows.map((row) => visibleWidth(row[i] ?? ""))),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) =>
        i === cells.length - 1 ? cell : cell + " ".repeat((widths[i] ?? 0) - visibleWidth(cell)),
      )
      .join("  ")
      .trimEnd();
  return [style.bold(line(headers)), ...rows.map(line)].join("\n") + "\n";
}

/** `label  value` lines with aligned values; multi-line values are indented under the first line. */
export function renderFields(style: Style, fields: readonly (readonly [string, string])[]): string {
  const width = Math.max(...fields.map(([label]) => label.length));
  return (
    fields
      .map(([label, value]) => {
        const [first = "", ...rest] = value.split("\n");
        const pad = " ".repeat(width + 2);
        return [style.bold(label.padEnd(width)) + "  " + first, ...rest.map((l) => pad + l)].join("\n");
      })
      .join("\n") + "\n"
  );
}
