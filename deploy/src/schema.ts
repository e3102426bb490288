import { checkMonitorShape, isMonitor } from "./monitors";
import { describeObject } from "./render";
import type { KubeObject } from "./render";

/** A validation error for one object, with the field it concerns (a dotted path, `""` for the object). */
export interface Problem {
  object: string;
  field: string;
  message: string;
}

/** Formats a problem as one line: `Deployment/x: .spec.replicas must be integer`. */
export function formatProblem(problem: Problem): string {
  return `${problem.object}: ${problem.field === "" ? "" : `${problem.field} `}${problem.message}`;
}

interface AjvError {
  instancePath?: string;
  message?: string;
  params?: Record<string, unknown>;
}

interface ModelClass {
  new (data: unknown): { validate(): void };
}

/** `/spec/template/spec/containers/0/image` → `.spec.template.spec.containers[0].image`. */
export function toFieldPath(instancePath: string): string {
  return instancePath
    .split("/")
    .slice(1)
    .map((token) => token.replace(/~1/g, "/").replace(/~0/g, "~"))
    .map((token) => (/^\d+$/.test(token) ? `[${token}]` : `.${token}`))
    .join("");
}

/** The kubernetes-models module of an apiVersion and kind: `apps/v1` + `Deployment` → `kubernetes-models/apps/v1/Deployment`. */
function modelSpecifier(apiVersion: string, kind: string): string | undefined {
  if (!/^[a-z0-9.-]*\/?v[0-9a-z]+$/.test(apiVersion) || !/^[A-Za-z]+$/.test(kind)) return undefined;
  return `kubernetes-models/${apiVersion}/${kind}`;
}

/**
 * Validates each object against the Kubernetes OpenAPI schema of its apiVersion and kind, as
 * compiled into JSON-schema validators (ajv) by the kubernetes-models package: types, required
 * fields, enums and formats. An apiVersion/kind without a schema is a problem too, except the
 * Prometheus Operator's PodMonitor and ServiceMonitor, whose shape `checkMonitorShape` checks.
 */
export async function validateSchemas(objects: readonly KubeObject[]): Promise<Problem[]> {
  const problems: Problem[] = [];
  for (const object of objects) {
    // The Prometheus Operator's CRDs have no schema in kubernetes-models: checked by hand.
    if (isMonitor(object)) {
      problems.push(...checkMonitorShape(object));
      continue;
    }
    const name = describeObject(object);
    const specifier = modelSpecifier(object.apiVersion ?? "", object.kind ?? "");
    let Model: ModelClass | undefined;
    if (specifier !== undefined) {
      try {
        // kubernetes-models is an ES module: a dynamic import, kept as such in our CommonJS output.
        const module = (await import(specifier)) as Record<string, unknown>;
        Model = module[object.kind ?? ""] as ModelClass | undefined;
      } catch {
        Model = undefined;
      }
    }
    if (Model === undefined) {
      problems.push({
        object: name,
        field: "",
        message: `no Kubernetes schema for apiVersion "${object.apiVersion ?? ""}" and kind "${object.kind ?? ""}"`,
      });
      continue;
    }
    try {
      new Model(object).validate();
    } catch (err) {
      const errors = (err as { errors?: AjvError[] }).errors;
      if (!Array.isArray(errors)) throw err;
      for (const e of errors) {
        const extra = e.params?.["allowedValues"];
        problems.push({
          object: name,
          field: toFieldPath(e.instancePath ?? ""),
          message: `${e.message ?? "is invalid"}${Array.isArray(extra) ? ` (${extra.join(", ")})` : ""}`,
        });
      }
    }
  }
  return problems;
}
