import { UsageError } from "./errors";
import { findJsonSyntaxError } from "./json-syntax";

/**
 * Reads a JSON argument such as `--input`: the JSON text itself, `@path` for a file's content, or
 * `@-` for standard input. Returns the text after checking that it is JSON.
 * @throws UsageError naming `option` when the file cannot be read or the text is not JSON
 */
export async function readJsonArg(
  option: string,
  value: string,
  readFile: (path: string) => Promise<string>,
): Promise<string> {
  let text = value;
  let source = option;
  if (value.startsWith("@")) {
    const path = value.slice(1);
    if (path === "") throw new UsageError(`${option} "@" needs a file name: @path, or @- for standard input`);
    source = path === "-" ? `${option} (standard input)` : `${option} file "${path}"`;
    try {
      text = await readFile(path);
    } catch (err) {
      throw new UsageError(`cannot read ${source}: ${reason(err)}`);
    }
  }
  try {
    JSON.parse(text);
  } catch (err) {
    const syntax = findJsonSyntaxError(text);
    if (syntax === undefined) throw new UsageError(`${source} is not valid JSON: ${reason(err)}`);
    throw new UsageError(
      `${source} is not valid JSON at line ${syntax.line}, column ${syntax.column}: ${syntax.message}`,
    );
  }
  return text.trim();
}

/** Reads a file for a command, turning a failure into a usage error that names the file. */
export async function readTextFile(
  path: string,
  readFile: (path: string) => Promise<string>,
): Promise<string> {
  try {
    return await readFile(path);
  } catch (err) {
    throw new UsageError(`cannot read "${path}": ${reason(err)}`);
  }
}

function reason(err: unknown): string {
  // Checked by shape: errors from node:fs may come from another realm (instanceof fails in jest).
  const code = typeof err === "object" && err !== null ? (err as { code?: unknown }).code : undefined;
  if (code === "ENOENT") return "no such file";
  if (code === "EISDIR") return "it is a directory";
  if (code === "EACCES") return "permission denied";
  return err instanceof Error || (typeof err === "object" && err !== null && "message" in err)
    ? String((err as { message: unknown }).message)
    : String(err);
}
