#!/usr/bin/env node
/**
 * `jetflow-validate-manifests <overlay dir>...`: renders each kustomize overlay and checks every
 * object against the Kubernetes schemas and jetflow's deployment rules. Prints one line per
 * problem (`Kind/name: .field message`) and exits 1 when there is any. The profile of an overlay
 * is its directory's name when that is "production", else "dev".
 */
import { basename } from "node:path";
import { validateOverlay } from "./validate";

async function main(dirs: string[]): Promise<number> {
  if (dirs.length === 0) {
    process.stderr.write("usage: jetflow-validate-manifests <overlay dir>...\n");
    return 2;
  }
  let failed = false;
  for (const dir of dirs) {
    const profile = basename(dir) === "production" ? "production" : "dev";
    const result = await validateOverlay(dir, profile);
    if (result.problems.length === 0) {
      process.stdout.write(`${dir}: ${result.objects} objects valid (${profile})\n`);
    } else {
      failed = true;
      process.stdout.write(`${dir}: ${result.problems.length} problems (${profile})\n`);
      for (const line of result.problems) process.stdout.write(`  ${line}\n`);
    }
  }
  return failed ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`jetflow-validate-manifests: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
