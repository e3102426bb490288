// Fails when packages/contracts/src/gen is not what `pnpm generate` makes from proto/ today:
// generates into a temp dir and compares file by file, leaving the work tree untouched.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const committed = join(root, "packages/contracts/src/gen");
const out = mkdtempSync(join(tmpdir(), "jetflow-gen-"));
const bin = (name) => join(root, "packages/contracts/node_modules/.bin", name);

function walk(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}

function filesUnder(dir) {
  return walk(dir)
    .map((path) => relative(dir, path))
    .sort();
}

try {
  execFileSync(bin("buf"), ["generate", "--template", "packages/contracts/buf.gen.yaml", "-o", out], {
    cwd: root,
    stdio: "inherit",
  });
  const fresh = join(out, "packages/contracts/src/gen");
  execFileSync("node", [join(root, "packages/contracts/scripts/write-barrel.mjs"), fresh], {
    stdio: "inherit",
  });
  execFileSync("node", [join(root, "packages/contracts/scripts/write-http-api.mjs"), fresh], {
    stdio: "inherit",
  });
  const a = filesUnder(committed);
  const b = filesUnder(fresh);
  const stale = [
    ...a.filter((f) => !b.includes(f)).map((f) => `${f} (should not exist)`),
    ...b.filter((f) => !a.includes(f)).map((f) => `${f} (missing)`),
    ...a.filter(
      (f) =>
        b.includes(f) && readFileSync(join(committed, f), "utf8") !== readFileSync(join(fresh, f), "utf8"),
    ),
  ];
  if (stale.length > 0) {
    console.error(
      `generated code is stale; run "pnpm generate" and commit the result:\n  ${stale.join("\n  ")}`,
    );
    process.exit(1);
  }
  console.log("generated code is up to date");
} finally {
  rmSync(out, { recursive: true, force: true });
}
