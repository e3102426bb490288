/** Pauses in a stream of completions: how long the engine made no progress around a fault. */

/**
 * The longest interval within `[fromMs, toMs]` in which none of `timesMs` falls, in milliseconds: the
 * longest stretch without a completion. The window's ends count as boundaries, so a window with no
 * completion at all gives its whole length.
 */
export function longestGapMs(timesMs: readonly number[], fromMs: number, toMs: number): number {
  const inside = timesMs.filter((t) => t >= fromMs && t <= toMs).sort((a, b) => a - b);
  let longest = 0;
  let previous = fromMs;
  for (const t of [...inside, toMs]) {
    longest = Math.max(longest, t - previous);
    previous = t;
  }
  return longest;
}

/** What one fault did to the completions, in milliseconds. */
export interface FaultPauses {
  /** What was done, e.g. "leader of JETFLOW_EVENTS isolated". */
  fault: string;
  /** Which node(s) it hit. */
  target: string;
  /** How long the fault held. */
  heldMs: number;
  /** The longest stretch without a completion while the fault held. */
  longestWhileHeldMs: number;
  /** Completions while the fault held. */
  completedWhileHeld: number;
  /** From the heal to the first completion after it, even one after the window (Infinity when none came). */
  firstAfterHealMs: number;
  /** The longest stretch without a completion after the heal: in the window, or until the first completion. */
  longestAfterHealMs: number;
  /** How long the window after the heal was watched. */
  afterHealWindowMs: number;
}

/**
 * Measures the pauses of a fault that held over `[faultAtMs, healedAtMs]` and was watched until
 * `windowEndMs`, from the completion times of every execution.
 */
export function measurePauses(
  fault: string,
  target: string,
  completionsMs: readonly number[],
  faultAtMs: number,
  healedAtMs: number,
  windowEndMs: number,
): FaultPauses {
  const firstAfterHealMs = Math.min(...completionsMs.filter((t) => t >= healedAtMs)) - healedAtMs;
  return {
    fault,
    target,
    heldMs: healedAtMs - faultAtMs,
    longestWhileHeldMs: longestGapMs(completionsMs, faultAtMs, healedAtMs),
    completedWhileHeld: completionsMs.filter((t) => t >= faultAtMs && t < healedAtMs).length,
    firstAfterHealMs,
    longestAfterHealMs: Math.max(firstAfterHealMs, longestGapMs(completionsMs, healedAtMs, windowEndMs)),
    afterHealWindowMs: windowEndMs - healedAtMs,
  };
}

/** The pauses as a fixed-width text table, seconds with one decimal. */
export function formatPauses(rows: readonly FaultPauses[]): string {
  const seconds = (ms: number): string => (ms / 1000).toFixed(1);
  const header = [
    "fault",
    "target",
    "held s",
    "longest gap held s",
    "done held",
    "first after heal s",
    "longest gap after heal s",
  ];
  const lines = rows.map((row) => [
    row.fault,
    row.target,
    seconds(row.heldMs),
    seconds(row.longestWhileHeldMs),
    String(row.completedWhileHeld),
    seconds(row.firstAfterHealMs),
    `${seconds(row.longestAfterHealMs)} (of ${seconds(row.afterHealWindowMs)})`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((line) => (line[i] ?? "").length)));
  const render = (cells: readonly string[]): string =>
    `| ${cells.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join(" | ")} |`;
  return [render(header), render(widths.map((w) => "-".repeat(w))), ...lines.map(render)].join("\n");
}
