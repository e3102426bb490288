/**
 * Serves the built web console: files under one directory, index.html for every other page path
 * (the console routes in the browser). Hashed assets are cached for good, index.html never.
 */
import { createReadStream, existsSync } from "node:fs";
import { stat } from "node:fs/promises";
import type { ServerResponse } from "node:http";
import { dirname, extname, join, resolve, sep } from "node:path";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".json": "application/json",
  ".map": "application/json",
  ".woff2": "font/woff2",
};

/**
 * The console's directory: `configured` when given, else `dist/` of the @jetflow/console package
 * when it was built; undefined when there is none.
 */
export function findConsoleDir(configured: string | undefined): string | undefined {
  if (configured !== undefined) return resolve(configured);
  try {
    const dir = join(dirname(require.resolve("@jetflow/console/package.json")), "dist");
    return existsSync(join(dir, "index.html")) ? dir : undefined;
  } catch {
    return undefined;
  }
}

/** Answers a GET for `pathname` from `root`; false when the path is not the console's to serve. */
export async function serveConsole(root: string, pathname: string, res: ServerResponse): Promise<boolean> {
  let relative: string;
  try {
    relative = decodeURIComponent(pathname);
  } catch {
    return false;
  }
  const file = resolve(root, "." + relative);
  if (file !== root && !file.startsWith(root + sep)) return false;
  const found = await stat(file).catch(() => undefined);
  if (found?.isFile()) {
    send(res, file, relative.startsWith("/assets/"));
    return true;
  }
  // A path with an extension names a file that is not there; anything else is a console page.
  if (extname(relative) !== "") return false;
  send(res, join(root, "index.html"), false);
  return true;
}

function send(res: ServerResponse, file: string, immutable: boolean): void {
  res.writeHead(200, {
    "content-type": TYPES[extname(file)] ?? "application/octet-stream",
    "cache-control": immutable ? "public, max-age=31536000, immutable" : "no-cache",
    "x-content-type-options": "nosniff",
  });
  createReadStream(file).pipe(res);
}
