import { checkMonitorTargets, isMonitor } from "./monitors";
import { checkPolicy } from "./policy";
import type { Profile } from "./policy";
import { renderOverlay } from "./render";
import type { KubeObject } from "./render";
import { formatProblem, validateSchemas } from "./schema";
import type { Problem } from "./schema";
import { checkUnknownFields } from "./strict";

/** What {@link validateOverlay} found: the number of objects rendered and one line per problem. */
export interface OverlayResult {
  objects: number;
  problems: string[];
}

/**
 * Renders the overlay in `dir` and checks every object: Kubernetes schema first, fields no schema
 * declares, then jetflow's rules for `profile`, and any Prometheus Operator monitor it holds
 * against its own workloads.
 *
 * @throws RenderError when the overlay does not render
 */
export async function validateOverlay(dir: string, profile: Profile): Promise<OverlayResult> {
  const objects = await renderOverlay(dir);
  return {
    objects: objects.length,
    problems: (await checkRendered(objects, profile, dir)).map(formatProblem),
  };
}

/** The checks of {@link validateOverlay} on objects already rendered from `dir`. */
export async function checkRendered(
  objects: readonly KubeObject[],
  profile: Profile,
  dir: string,
): Promise<Problem[]> {
  const monitors = objects.filter(isMonitor);
  return [
    ...(await validateSchemas(objects)),
    ...checkUnknownFields(objects),
    ...checkPolicy(objects, profile),
    ...(monitors.length > 0 ? checkMonitorTargets(monitors, objects, dir) : []),
  ];
}

/** True when a directory renders Prometheus Operator monitors and nothing else (k8s/monitoring). */
export function isMonitorsOnly(objects: readonly KubeObject[]): boolean {
  return objects.length > 0 && objects.every(isMonitor);
}

/**
 * Checks a directory of monitors only (`objects`, rendered from `dir`), meant to be applied next
 * to an overlay: each monitor's shape, and what it selects in each of `overlays` (rendered).
 * Checked against no overlay at all is a problem: what it selects would go unchecked.
 */
export async function checkMonitors(
  objects: readonly KubeObject[],
  dir: string,
  overlays: ReadonlyArray<{ dir: string; objects: readonly KubeObject[] }>,
): Promise<Problem[]> {
  const problems = await validateSchemas(objects);
  if (overlays.length === 0) {
    problems.push({
      object: dir,
      field: "",
      message: "has monitors only: name an overlay too, to check what they select",
    });
  }
  for (const overlay of overlays)
    problems.push(...checkMonitorTargets(objects, overlay.objects, overlay.dir));
  return problems;
}
