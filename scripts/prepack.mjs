#!/usr/bin/env node
// Run by `pnpm pack` / `pnpm publish` in a published package's directory (its `prepack` script):
// copies what the tarball needs from the repository root — the LICENSE, and for
// @jetflow/contracts the .proto files, so that workers in other languages get them with the
// package. The copies are ignored by git: proto/ at the root stays the only source, and
// `postpack` (the same script with --clean) removes them again, so that a stale copy never
// shadows the root's proto/ (the api-gateway looks in the contracts package first).
import { cpSync, readFileSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";

const root = resolve(import.meta.dirname ?? new URL(".", import.meta.url).pathname, "..");
const pkgDir = process.cwd();
const { name } = JSON.parse(readFileSync(join(pkgDir, "package.json"), "utf8"));

if (process.argv.includes("--clean")) {
  rmSync(join(pkgDir, "LICENSE"), { force: true });
  rmSync(join(pkgDir, "proto"), { recursive: true, force: true });
  process.exit(0);
}
cpSync(join(root, "LICENSE"), join(pkgDir, "LICENSE"));
if (name === "@jetflow/contracts") {
  rmSync(join(pkgDir, "proto"), { recursive: true, force: true });
  cpSync(join(root, "proto"), join(pkgDir, "proto"), { recursive: true });
}
