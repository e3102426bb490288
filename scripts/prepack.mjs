#!/usr/bin/env node
// Run by `pnpm pack` / `pnpm publish` in a published package's directory (its `prepack` script):
// copies what the tarball needs from the repository root — the LICENSE, and for
// @jetflow/contracts the .proto files, so that workers in other languages get them with the
// package. The copies are ignored by git: proto/ at the root stays the only source.
import { cpSync, readFileSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";

const root = resolve(import.meta.dirname ?? new URL(".", import.meta.url).pathname, "..");
const pkgDir = process.cwd();
const { name } = JSON.parse(readFileSync(join(pkgDir, "package.json"), "utf8"));

cpSync(join(root, "LICENSE"), join(pkgDir, "LICENSE"));
if (name === "@jetflow/contracts") {
  rmSync(join(pkgDir, "proto"), { recursive: true, force: true });
  cpSync(join(root, "proto"), join(pkgDir, "proto"), { recursive: true });
}
