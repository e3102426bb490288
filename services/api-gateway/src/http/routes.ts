/**
 * The HTTP routes of the WorkflowService, compiled from the table that `pnpm generate` derives
 * from the .proto's `google.api.http` options (no route is written here), and the pure step
 * from an HTTP request (path, query string, JSON body) to the JSON object the request message's
 * `fromJSON` reads. Every problem of a request is named with its field.
 */
import { httpRoutes } from "@jetflow/contracts";
import type { HttpField, HttpRoute } from "@jetflow/contracts";
import { RequestProblems } from "../errors";

/** A route with its path template compiled to a regular expression. */
export interface CompiledRoute {
  readonly route: HttpRoute;
  /** The service implementation's key: "StartExecution" → "startExecution". */
  readonly handler: string;
  readonly pattern: RegExp;
  /** The fields bound by the path, in the order of the template's variables. */
  readonly pathFields: readonly HttpField[];
}

/** What a request matched: its route and path variables, or why none matched. */
export type RouteMatch =
  | { kind: "route"; compiled: CompiledRoute; pathValues: string[] }
  | { kind: "wrong-verb"; allowed: string[] }
  | { kind: "none" };

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Compiles one route; `{field}` matches one non-empty path segment. */
export function compileRoute(route: HttpRoute): CompiledRoute {
  const names: string[] = [];
  const source = route.path
    .split(/(\{[a-z_][a-z0-9_]*\})/)
    .map((part) => {
      const variable = /^\{([a-z_][a-z0-9_]*)\}$/.exec(part);
      if (variable === null) return escapeRegExp(part);
      names.push(variable[1] as string);
      return "([^/]+)";
    })
    .join("");
  const pathFields = names.map((name) => {
    const field = route.fields.find((f) => f.name === name);
    if (field === undefined) throw new Error(`route ${route.method}: no field "${name}"`);
    return field;
  });
  return {
    route,
    handler: route.method.charAt(0).toLowerCase() + route.method.slice(1),
    pattern: new RegExp(`^${source}$`),
    pathFields,
  };
}

/** Every WorkflowService route, compiled once. */
export const compiledRoutes: readonly CompiledRoute[] = httpRoutes.map(compileRoute);

/** Finds the route of `verb` and `pathname` (still percent-encoded). */
export function matchRoute(
  verb: string,
  pathname: string,
  routes: readonly CompiledRoute[] = compiledRoutes,
): RouteMatch {
  const allowed: string[] = [];
  for (const compiled of routes) {
    const match = compiled.pattern.exec(pathname);
    if (match === null) continue;
    if (compiled.route.verb !== verb) {
      allowed.push(compiled.route.verb);
      continue;
    }
    return { kind: "route", compiled, pathValues: match.slice(1) };
  }
  return allowed.length > 0 ? { kind: "wrong-verb", allowed } : { kind: "none" };
}

const INTEGER = /^-?\d{1,20}$/;

/** Converts one query-string value to what `fromJSON` expects for a field of `kind`. */
function fromQueryValue(field: HttpField, value: string, problems: RequestProblems): unknown {
  switch (field.kind) {
    case "integer":
      if (!INTEGER.test(value)) problems.add(field.name, `must be an integer, got "${value.slice(0, 100)}"`);
      return Number(value);
    case "boolean":
      if (value !== "true" && value !== "false")
        problems.add(field.name, `must be true or false, got "${value.slice(0, 100)}"`);
      return value === "true";
    case "timestamp":
      if (Number.isNaN(Date.parse(value)))
        problems.add(field.name, `must be an RFC 3339 time, got "${value.slice(0, 100)}"`);
      return value;
    default:
      return value;
  }
}

/** Checks one body value against its field's kind (fromJSON itself coerces silently). */
function checkBodyValue(field: HttpField, value: unknown, problems: RequestProblems): void {
  if (value === null) return;
  const wrong = (expected: string) =>
    problems.add(field.name, `must be ${expected}, got ${JSON.stringify(value)?.slice(0, 100)}`);
  switch (field.kind) {
    case "string":
    case "bytes":
      if (typeof value !== "string") wrong("a string");
      return;
    case "integer":
      if (
        !(typeof value === "number" && Number.isInteger(value)) &&
        !(typeof value === "string" && INTEGER.test(value))
      )
        wrong("an integer");
      return;
    case "boolean":
      if (typeof value !== "boolean") wrong("true or false");
      return;
    case "enum":
      if (typeof value !== "string" && typeof value !== "number") wrong("an enum name");
      return;
    case "timestamp":
      if (typeof value !== "string" || Number.isNaN(Date.parse(value))) wrong("an RFC 3339 time");
      return;
    case "repeated":
      if (!Array.isArray(value)) wrong("an array");
      return;
    case "message":
      if (typeof value !== "object" || Array.isArray(value)) wrong("an object");
      return;
  }
}

/**
 * The request message's JSON object from the path values, the query string and the parsed body
 * (undefined for routes without a body). Fields are named by their JSON or proto name.
 * @throws ApiError INVALID_ARGUMENT naming every field that is unknown or of the wrong type
 */
export function requestObject(
  compiled: CompiledRoute,
  pathValues: readonly string[],
  query: URLSearchParams,
  body: unknown,
): Record<string, unknown> {
  const { route } = compiled;
  const problems = new RequestProblems();
  const object: Record<string, unknown> = {};
  const byName = (name: string) => route.fields.find((f) => f.jsonName === name || f.name === name);

  if (route.body === "*") {
    if (body === undefined) {
      // An empty body is an empty message, as with gRPC.
    } else if (typeof body !== "object" || body === null || Array.isArray(body)) {
      problems.add("body", "must be a JSON object");
    } else {
      for (const [key, value] of Object.entries(body)) {
        const field = byName(key);
        if (field === undefined || field.in !== "body") {
          problems.add(key, field === undefined ? "unknown field" : "is set by the path, not the body");
          continue;
        }
        checkBodyValue(field, value, problems);
        object[field.jsonName] = value;
      }
    }
  }
  for (const key of new Set(query.keys())) {
    const field = byName(key);
    if (field === undefined || field.in !== "query") {
      problems.add(
        key,
        field === undefined ? "unknown query parameter" : "is not read from the query string",
      );
      continue;
    }
    const values = query.getAll(key);
    if (values.length > 1) problems.add(field.name, "is given more than once");
    object[field.jsonName] = fromQueryValue(field, values[0] as string, problems);
  }
  compiled.pathFields.forEach((field, i) => {
    let value = pathValues[i] ?? "";
    try {
      value = decodeURIComponent(value);
    } catch {
      problems.add(field.name, "is not valid percent-encoding");
    }
    object[field.jsonName] = value;
  });
  problems.check();
  return object;
}
