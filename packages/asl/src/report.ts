import type { AslProblem } from "./problems";

/**
 * Renders problems for a terminal, one per line: `file:line:column path: message` (the position
 * is left out when unknown, the file name when not given; the document itself shows as `(root)`).
 */
export function formatProblems(problems: readonly AslProblem[], fileName?: string): string {
  return problems
    .map((problem) => {
      let where = fileName ?? "";
      if (problem.line !== undefined) {
        const position = `${problem.line}:${problem.column ?? 1}`;
        where = where === "" ? position : `${where}:${position}`;
      }
      const path = problem.path === "" ? "(root)" : problem.path;
      return `${where === "" ? "" : `${where} `}${path}: ${problem.message}`;
    })
    .join("\n");
}
