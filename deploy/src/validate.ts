import { checkPolicy } from "./policy";
import type { Profile } from "./policy";
import { renderOverlay } from "./render";
import { formatProblem, validateSchemas } from "./schema";
import { checkUnknownFields } from "./strict";

/** What {@link validateOverlay} found: the number of objects rendered and one line per problem. */
export interface OverlayResult {
  objects: number;
  problems: string[];
}

/**
 * Renders the overlay in `dir` and checks every object: Kubernetes schema first, fields no schema
 * declares, then jetflow's rules for `profile`.
 *
 * @throws RenderError when the overlay does not render
 */
export async function validateOverlay(dir: string, profile: Profile): Promise<OverlayResult> {
  const objects = await renderOverlay(dir);
  const problems = [
    ...(await validateSchemas(objects)),
    ...checkUnknownFields(objects),
    ...checkPolicy(objects, profile),
  ];
  return { objects: objects.length, problems: problems.map(formatProblem) };
}
