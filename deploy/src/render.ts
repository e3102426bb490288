import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { parseAllDocuments } from "yaml";

const run = promisify(execFile);

/** One Kubernetes object as rendered, loosely typed: validation decides what it really is. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; labels?: Record<string, string> };
  [field: string]: unknown;
}

/** Thrown when an overlay cannot be rendered; `stderr` is what kustomize said. */
export class RenderError extends Error {
  override readonly name = "RenderError";
  constructor(
    readonly overlay: string,
    readonly stderr: string,
    options?: ErrorOptions,
  ) {
    super(`cannot render "${overlay}": ${stderr.trim() || "kubectl kustomize failed"}`, options);
  }
}

/** `Kind/name` (and the namespace when set): how problems name an object. */
export function describeObject(object: KubeObject): string {
  const name = object.metadata?.name ?? "(no name)";
  const namespace = object.metadata?.namespace;
  return `${object.kind ?? "(no kind)"}/${name}${namespace === undefined ? "" : ` in ${namespace}`}`;
}

/**
 * Renders a kustomize directory with `kubectl kustomize` (offline; no cluster needed) and parses
 * every document. `kubectl` is looked up on PATH unless given.
 *
 * @throws RenderError when kustomize fails or prints something that is not YAML
 */
export async function renderOverlay(dir: string, kubectl = "kubectl"): Promise<KubeObject[]> {
  let stdout: string;
  try {
    ({ stdout } = await run(kubectl, ["kustomize", dir], { maxBuffer: 64 * 1024 * 1024 }));
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr ?? (err instanceof Error ? err.message : String(err));
    throw new RenderError(dir, stderr, { cause: err });
  }
  const objects: KubeObject[] = [];
  for (const doc of parseAllDocuments(stdout)) {
    if (doc.errors.length > 0) {
      throw new RenderError(dir, doc.errors.map((e) => e.message).join("; "));
    }
    const value: unknown = doc.toJSON();
    if (value !== null && typeof value === "object" && !Array.isArray(value))
      objects.push(value as KubeObject);
  }
  return objects;
}
