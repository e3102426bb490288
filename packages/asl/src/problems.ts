/** One thing wrong with a definition: where (`States.Charge.Retry[1].ErrorEquals`) and what. */
export interface AslProblem {
  /** Location inside the definition; `""` is the document itself. */
  path: string;
  /** What is wrong and, where it helps, how to fix it. */
  message: string;
  /** 1-based line, when the definition came from text. */
  line?: number;
  /** 1-based column, when the definition came from text. */
  column?: number;
}

/** A location as segments: field names and array indexes. */
export type PathSegments = readonly (string | number)[];

const PLAIN_KEY = /^[^.[\]"\s][^.[\]"]*$/;

/**
 * Renders segments as a problem path: `States.Charge.Retry[1].ErrorEquals`. Names that contain
 * `.`, `[`, `]` or `"` (or are empty) are quoted, `States["a.b"].Next`, so the path stays unambiguous.
 */
export function formatPath(segments: PathSegments): string {
  let out = "";
  for (const segment of segments) {
    if (typeof segment === "number") out += `[${segment}]`;
    else if (PLAIN_KEY.test(segment) && !segment.endsWith(" ")) out += out === "" ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}

/** Collects problems during validation, in the order they are found. */
export class ProblemList {
  readonly items: Array<{ segments: PathSegments; message: string }> = [];

  /** Records a problem at `segments`. */
  add(segments: PathSegments, message: string): void {
    this.items.push({ segments, message });
  }

  /** How many problems have been recorded. */
  get size(): number {
    return this.items.length;
  }
}
