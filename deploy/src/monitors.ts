/**
 * The Prometheus Operator's PodMonitor and ServiceMonitor (monitoring.coreos.com/v1): custom
 * resources that kubernetes-models has no schema for. Their shape is checked here, field by field
 * for what jetflow uses, and what they select is checked against an overlay's workloads: a
 * selector that matches nothing or a port name no container (or Service) has scrapes nothing,
 * silently.
 */
import { describeObject } from "./render";
import type { KubeObject } from "./render";
import type { Problem } from "./schema";

type Json = Record<string, unknown>;

const MONITOR_API_VERSION = "monitoring.coreos.com/v1";

/** The endpoints field of each monitor kind. */
const ENDPOINTS_FIELD = { PodMonitor: "podMetricsEndpoints", ServiceMonitor: "endpoints" } as const;
type MonitorKind = keyof typeof ENDPOINTS_FIELD;

/** The fields checked (and so allowed) at each level; anything else is reported as unknown. */
const SPEC_FIELDS = new Set([
  "selector",
  "namespaceSelector",
  "jobLabel",
  "podMetricsEndpoints",
  "endpoints",
]);
const ENDPOINT_FIELDS = new Set(["port", "path", "interval", "scrapeTimeout", "scheme", "honorLabels"]);
const SELECTOR_FIELDS = new Set(["matchLabels", "matchExpressions"]);
const DURATION = /^(\d+(ms|s|m|h))+$/;
const WORKLOADS = new Set(["Deployment", "StatefulSet", "DaemonSet"]);

function obj(value: unknown): Json {
  return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Json) : {};
}

/** True for a PodMonitor or ServiceMonitor of the Prometheus Operator. */
export function isMonitor(object: KubeObject): boolean {
  return object.apiVersion === MONITOR_API_VERSION && (object.kind ?? "") in ENDPOINTS_FIELD;
}

/**
 * Whether a label selector (`matchLabels` and `matchExpressions` with In, NotIn, Exists,
 * DoesNotExist) selects `labels`. An empty selector selects nothing here: a monitor meant to
 * select everything is a mistake in jetflow's manifests.
 */
export function selectorMatches(selector: unknown, labels: Record<string, string>): boolean {
  const matchLabels = Object.entries(obj(obj(selector)["matchLabels"]));
  const expressions = obj(selector)["matchExpressions"];
  const matchExpressions = Array.isArray(expressions) ? expressions.map(obj) : [];
  if (matchLabels.length === 0 && matchExpressions.length === 0) return false;
  return (
    matchLabels.every(([key, value]) => labels[key] === value) &&
    matchExpressions.every((e) => {
      const key = String(e["key"] ?? "");
      const values = Array.isArray(e["values"]) ? e["values"].map(String) : [];
      switch (e["operator"]) {
        case "In":
          return key in labels && values.includes(labels[key] ?? "");
        case "NotIn":
          return !(key in labels) || !values.includes(labels[key] ?? "");
        case "Exists":
          return key in labels;
        case "DoesNotExist":
          return !(key in labels);
        default:
          return false;
      }
    })
  );
}

/** Checks a monitor's fields: a name, a selector, and endpoints each naming a port. */
export function checkMonitorShape(monitor: KubeObject): Problem[] {
  const name = describeObject(monitor);
  const problems: Problem[] = [];
  const problem = (field: string, message: string) => problems.push({ object: name, field, message });
  const kind = monitor.kind as MonitorKind;
  if (!monitor.metadata?.name) problem(".metadata.name", "must be set");
  const spec = obj(monitor["spec"]);
  const otherEndpoints: string[] = Object.values(ENDPOINTS_FIELD).filter((f) => f !== ENDPOINTS_FIELD[kind]);
  for (const field of Object.keys(spec)) {
    if (!SPEC_FIELDS.has(field) || otherEndpoints.includes(field))
      problem(`.spec.${field}`, `is not a field of ${kind}`);
  }
  const selector = spec["selector"];
  if (selector === undefined) problem(".spec.selector", "must be set");
  for (const field of Object.keys(obj(selector))) {
    if (!SELECTOR_FIELDS.has(field)) problem(`.spec.selector.${field}`, "is not a field of LabelSelector");
  }
  for (const [key, value] of Object.entries(obj(obj(selector)["matchLabels"]))) {
    if (typeof value !== "string") problem(`.spec.selector.matchLabels.${key}`, "must be a string");
  }
  const endpointsField = ENDPOINTS_FIELD[kind];
  const endpoints = spec[endpointsField];
  if (!Array.isArray(endpoints) || endpoints.length === 0) {
    problem(`.spec.${endpointsField}`, "must list at least one endpoint");
    return problems;
  }
  endpoints.forEach((raw, i) => {
    const at = `.spec.${endpointsField}[${i}]`;
    const endpoint = obj(raw);
    for (const field of Object.keys(endpoint)) {
      if (!ENDPOINT_FIELDS.has(field)) problem(`${at}.${field}`, "is not a field of an endpoint");
    }
    if (typeof endpoint["port"] !== "string" || endpoint["port"] === "")
      problem(`${at}.port`, "must name a port");
    const path = endpoint["path"];
    if (path !== undefined && (typeof path !== "string" || !path.startsWith("/")))
      problem(`${at}.path`, 'must be a path starting with "/"');
    for (const field of ["interval", "scrapeTimeout"]) {
      const value = endpoint[field];
      if (value !== undefined && (typeof value !== "string" || !DURATION.test(value)))
        problem(`${at}.${field}`, `must be a duration such as "15s", got ${JSON.stringify(value)}`);
    }
    const scheme = endpoint["scheme"];
    if (scheme !== undefined && scheme !== "http" && scheme !== "https")
      problem(`${at}.scheme`, 'must be "http" or "https"');
  });
  return problems;
}

/** What a monitor can select: pods (of workloads) or Services, with the port names they expose. */
interface Target {
  name: string;
  labels: Record<string, string>;
  ports: Set<string>;
}

function podTargets(objects: readonly KubeObject[]): Target[] {
  return objects
    .filter((o) => WORKLOADS.has(o.kind ?? ""))
    .map((object) => {
      const template = obj(obj(object["spec"])["template"]);
      const containers = obj(template["spec"])["containers"];
      const ports = (Array.isArray(containers) ? containers : []).flatMap((c) => {
        const list = obj(c)["ports"];
        return (Array.isArray(list) ? list : []).map((p) => String(obj(p)["name"] ?? ""));
      });
      return {
        name: describeObject(object),
        labels: obj(obj(template["metadata"])["labels"]) as Record<string, string>,
        ports: new Set(ports.filter((p) => p !== "")),
      };
    });
}

function serviceTargets(objects: readonly KubeObject[]): Target[] {
  return objects
    .filter((o) => o.kind === "Service")
    .map((object) => {
      const ports = obj(object["spec"])["ports"];
      return {
        name: describeObject(object),
        labels: object.metadata?.labels ?? {},
        ports: new Set((Array.isArray(ports) ? ports : []).map((p) => String(obj(p)["name"] ?? ""))),
      };
    });
}

/**
 * Checks `monitors` against one rendered overlay (`objects`): each monitor selects at least one
 * pod template (PodMonitor) or Service (ServiceMonitor), each of its endpoints' ports is a port
 * name of everything it selects, and every jetflow service and worker pod (labelled
 * `app.kubernetes.io/component: service|worker`) is scraped by some PodMonitor endpoint or
 * Service behind a ServiceMonitor. `overlay` names the overlay in the problems.
 */
export function checkMonitorTargets(
  monitors: readonly KubeObject[],
  objects: readonly KubeObject[],
  overlay: string,
): Problem[] {
  const problems: Problem[] = [];
  const pods = podTargets(objects);
  const services = serviceTargets(objects);
  const scraped = new Set<string>();
  for (const monitor of monitors.filter(isMonitor)) {
    const name = describeObject(monitor);
    const kind = monitor.kind as MonitorKind;
    const spec = obj(monitor["spec"]);
    const candidates = kind === "PodMonitor" ? pods : services;
    const selected = candidates.filter((t) => selectorMatches(spec["selector"], t.labels));
    if (selected.length === 0) {
      problems.push({
        object: name,
        field: ".spec.selector",
        message: `selects no ${kind === "PodMonitor" ? "pod template" : "Service"} of ${overlay}`,
      });
      continue;
    }
    const endpoints = spec[ENDPOINTS_FIELD[kind]];
    (Array.isArray(endpoints) ? endpoints : []).forEach((raw, i) => {
      const port = String(obj(raw)["port"] ?? "");
      for (const target of selected) {
        if (!target.ports.has(port)) {
          problems.push({
            object: name,
            field: `.spec.${ENDPOINTS_FIELD[kind]}[${i}].port`,
            message: `names port "${port}", which ${target.name} of ${overlay} does not have (it has ${
              [...target.ports]
                .sort()
                .map((p) => `"${p}"`)
                .join(", ") || "none"
            })`,
          });
        } else if (kind === "PodMonitor") {
          scraped.add(target.name);
        } else {
          // A Service scrapes the pods it selects.
          const selector = obj(objects.find((o) => describeObject(o) === target.name)?.["spec"])["selector"];
          for (const pod of pods)
            if (selectorMatches({ matchLabels: selector }, pod.labels)) scraped.add(pod.name);
        }
      }
    });
  }
  for (const pod of pods) {
    const component = pod.labels["app.kubernetes.io/component"];
    if ((component === "service" || component === "worker") && !scraped.has(pod.name)) {
      problems.push({
        object: pod.name,
        field: "",
        message: `is a jetflow ${component} of ${overlay} that no monitor scrapes`,
      });
    }
  }
  return problems;
}
