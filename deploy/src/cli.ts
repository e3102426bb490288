#!/usr/bin/env node
/**
 * `jetflow-validate-manifests <dir>...`: renders each kustomize directory and checks every object
 * against the Kubernetes schemas and jetflow's deployment rules. Prints one line per problem
 * (`Kind/name: .field message`) and exits 1 when there is any. The profile of an overlay is its
 * directory's name when that is "production", else "dev". A directory of Prometheus Operator
 * monitors only (k8s/monitoring) is checked against every overlay named with it.
 */
import { basename } from "node:path";
import { renderOverlay } from "./render";
import type { KubeObject } from "./render";
import { formatProblem } from "./schema";
import type { Problem } from "./schema";
import { checkMonitors, checkRendered, isMonitorsOnly } from "./validate";

async function main(dirs: string[]): Promise<number> {
  if (dirs.length === 0) {
    process.stderr.write("usage: jetflow-validate-manifests <overlay dir>...\n");
    return 2;
  }
  const rendered: { dir: string; objects: KubeObject[] }[] = [];
  for (const dir of dirs) rendered.push({ dir, objects: await renderOverlay(dir) });
  const overlays = rendered.filter((r) => !isMonitorsOnly(r.objects));
  let failed = false;
  for (const { dir, objects } of rendered) {
    let problems: Problem[];
    let what: string;
    if (isMonitorsOnly(objects)) {
      problems = await checkMonitors(objects, dir, overlays);
      what = `monitors, against ${overlays.length} overlay${overlays.length === 1 ? "" : "s"}`;
    } else {
      what = basename(dir) === "production" ? "production" : "dev";
      problems = await checkRendered(objects, what === "production" ? "production" : "dev", dir);
    }
    if (problems.length === 0) {
      process.stdout.write(`${dir}: ${objects.length} objects valid (${what})\n`);
    } else {
      failed = true;
      process.stdout.write(`${dir}: ${problems.length} problems (${what})\n`);
      for (const problem of problems) process.stdout.write(`  ${formatProblem(problem)}\n`);
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
