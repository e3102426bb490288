/**
 * What jetflow's manifests must be beyond schema-valid: the runtime contract (probes on the
 * health endpoints, graceful-stop budget), a locked-down pod, resolvable references, only the
 * api-gateway exposed, and in production the replicated topology. Pure: objects in, problems out.
 */
import { describeObject } from "./render";
import type { KubeObject } from "./render";
import type { Problem } from "./schema";

/** Which rules apply: `production` adds the replicated topology to the base rules. */
export type Profile = "dev" | "production";

/**
 * Secrets the production overlay references without rendering them, never committed: the NATS
 * ones created by deploy/scripts/nats-credentials.sh; the API's certificate and hashed tokens, and
 * NATS's certificate and CA, by the operator or cert-manager (docs/deploy.md).
 */
export const EXTERNAL_SECRETS: readonly string[] = [
  "jetflow-api-tls",
  "jetflow-api-tokens",
  "jetflow-nats-tls",
  "jetflow-nats-ca",
  "jetflow-nats-server-passwords",
  "jetflow-nats-state-manager",
  "jetflow-nats-orchestrator",
  "jetflow-nats-dispatcher",
  "jetflow-nats-result-ingestor",
  "jetflow-nats-api-gateway",
  "jetflow-nats-worker-examples",
];

type Json = Record<string, unknown>;

function obj(value: unknown): Json {
  return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Json) : {};
}

function list(value: unknown): Json[] {
  return Array.isArray(value) ? value.map(obj) : [];
}

function labelsMatch(selector: unknown, labels: Record<string, string>): boolean {
  const matchLabels = obj(obj(selector)["matchLabels"]);
  const entries = Object.entries(matchLabels);
  return entries.length > 0 && entries.every(([k, v]) => labels[k] === v);
}

const WORKLOADS = new Set(["Deployment", "StatefulSet"]);

interface Workload {
  object: KubeObject;
  name: string;
  spec: Json;
  pod: Json;
  podLabels: Record<string, string>;
  containers: Json[];
}

function workloads(objects: readonly KubeObject[]): Workload[] {
  return objects
    .filter((o) => WORKLOADS.has(o.kind ?? ""))
    .map((object) => {
      const spec = obj(object["spec"]);
      const template = obj(spec["template"]);
      const pod = obj(template["spec"]);
      return {
        object,
        name: describeObject(object),
        spec,
        pod,
        podLabels: obj(obj(template["metadata"])["labels"]) as Record<string, string>,
        containers: list(pod["containers"]),
      };
    });
}

/** The largest share of the NATS container's memory limit its Go soft limit may be. */
const GO_LIMIT_SHARE_OF_LIMIT = 0.9;

/** The largest share of a container's memory limit the V8 old space may be given. */
const HEAP_SHARE_OF_LIMIT = 0.75;

/** Suffixes of a Kubernetes memory quantity ("512Mi", "1G", "536870912"), in bytes. */
const KUBERNETES_UNITS: Record<string, number> = {
  "": 1,
  Ki: 1024,
  Mi: 1024 ** 2,
  Gi: 1024 ** 3,
  Ti: 1024 ** 4,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
};

/** Suffixes of a Go GOMEMLIMIT ("900MiB", "3GiB", "1000000"), in bytes. */
const GO_UNITS: Record<string, number> = {
  "": 1,
  B: 1,
  KiB: 1024,
  MiB: 1024 ** 2,
  GiB: 1024 ** 3,
  TiB: 1024 ** 4,
};

/**
 * A size written as a number and one of `units`' suffixes, in MiB; undefined if not one. Go reads
 * whole numbers only, Kubernetes fractions too (`fractions`).
 */
function mebibytes(value: unknown, units: Record<string, number>, fractions = true): number | undefined {
  const match = (fractions ? /^(\d+(?:\.\d+)?)([A-Za-z]*)$/ : /^(\d+)([A-Za-z]*)$/).exec(String(value ?? ""));
  const factor = match === null ? undefined : units[match[2] ?? ""];
  return match === null || factor === undefined ? undefined : (Number(match[1]) * factor) / 1024 ** 2;
}

/** Checks `objects` (one rendered overlay) against jetflow's deployment rules. */
export function checkPolicy(objects: readonly KubeObject[], profile: Profile): Problem[] {
  const problems: Problem[] = [];
  const problem = (object: string, field: string, message: string) =>
    problems.push({ object, field, message });
  const byKind = (kind: string) => objects.filter((o) => o.kind === kind);
  const names = (kind: string) => new Set(byKind(kind).map((o) => o.metadata?.name ?? ""));
  const configMaps = names("ConfigMap");
  const secrets = names("Secret");
  const external = profile === "production" ? new Set(EXTERNAL_SECRETS) : new Set<string>();
  const jetflowConfig = byKind("ConfigMap").find((o) =>
    (o.metadata?.name ?? "").startsWith("jetflow-config"),
  );
  const config = obj(jetflowConfig?.["data"]) as Record<string, string>;
  if (jetflowConfig === undefined) problem("ConfigMap/jetflow-config", "", "is missing");

  // Node 20 sizes its V8 heap from the machine's memory, not the container's limit (measured:
  // 4,345 MB inside a 512 MiB cgroup), so without a cap a busy service grows past its limit and is
  // OOM-killed instead of collecting garbage.
  const heapMb = /--max-old-space-size=(\d+)/.exec(config["NODE_OPTIONS"] ?? "")?.[1];
  if (jetflowConfig !== undefined && heapMb === undefined) {
    problem(
      "ConfigMap/jetflow-config",
      ".data.NODE_OPTIONS",
      "must set --max-old-space-size below the containers' memory limit",
    );
  }

  for (const w of workloads(objects)) {
    const component = w.podLabels["app.kubernetes.io/component"];
    const podSecurity = obj(w.pod["securityContext"]);
    if (podSecurity["runAsNonRoot"] !== true) {
      problem(w.name, ".spec.template.spec.securityContext.runAsNonRoot", "must be true");
    }
    if (w.pod["automountServiceAccountToken"] !== false) {
      problem(
        w.name,
        ".spec.template.spec.automountServiceAccountToken",
        "must be false: jetflow never calls the Kubernetes API",
      );
    }
    list(w.pod["volumes"]).forEach((volume, j) => {
      const secret = obj(volume["secret"])["secretName"];
      if (typeof secret === "string" && !secrets.has(secret) && !external.has(secret)) {
        problem(
          w.name,
          `.spec.template.spec.volumes[${j}].secret.secretName`,
          `refers to a missing Secret "${secret}"`,
        );
      }
    });
    const graceSeconds = Number(w.pod["terminationGracePeriodSeconds"] ?? 30);
    w.containers.forEach((container, i) => {
      const at = `.spec.template.spec.containers[${i}]`;
      const security = obj(container["securityContext"]);
      if (security["readOnlyRootFilesystem"] !== true)
        problem(w.name, `${at}.securityContext.readOnlyRootFilesystem`, "must be true");
      if (security["allowPrivilegeEscalation"] !== false)
        problem(w.name, `${at}.securityContext.allowPrivilegeEscalation`, "must be false");
      const dropped = obj(security["capabilities"])["drop"];
      if (!Array.isArray(dropped) || !dropped.includes("ALL"))
        problem(w.name, `${at}.securityContext.capabilities.drop`, 'must include "ALL"');
      const resources = obj(container["resources"]);
      for (const kind of ["requests", "limits"]) {
        for (const resource of ["cpu", "memory"]) {
          if (obj(resources[kind])[resource] === undefined)
            problem(w.name, `${at}.resources.${kind}.${resource}`, "must be set");
        }
      }
      const memoryLimit = mebibytes(obj(resources["limits"])["memory"], KUBERNETES_UNITS);
      const usesConfig = list(container["envFrom"]).some((source) =>
        String(obj(source["configMapRef"])["name"] ?? "").startsWith("jetflow-config"),
      );
      if (usesConfig && heapMb !== undefined && memoryLimit !== undefined) {
        // The young generation, code, buffers and the runtime take the rest of the limit.
        if (Number(heapMb) > memoryLimit * HEAP_SHARE_OF_LIMIT) {
          problem(
            w.name,
            `${at}.resources.limits.memory`,
            `must leave room above the heap cap: --max-old-space-size=${heapMb} (jetflow-config NODE_OPTIONS) is over ${HEAP_SHARE_OF_LIMIT * 100}% of ${memoryLimit} MiB`,
          );
        }
      }
      if (String(container["name"]) === "nats" && memoryLimit !== undefined) {
        const goLimit = list(container["env"]).find((v) => v["name"] === "GOMEMLIMIT")?.["value"];
        const goLimitMb = mebibytes(goLimit, GO_UNITS, false);
        if (goLimitMb === undefined) {
          problem(
            w.name,
            `${at}.env`,
            `must set GOMEMLIMIT (in MiB or GiB) below limits.memory, got ${JSON.stringify(goLimit ?? null)}`,
          );
        } else if (goLimitMb > memoryLimit * GO_LIMIT_SHARE_OF_LIMIT) {
          problem(
            w.name,
            `${at}.env`,
            `GOMEMLIMIT ${String(goLimit)} is over ${GO_LIMIT_SHARE_OF_LIMIT * 100}% of limits.memory (${memoryLimit} MiB)`,
          );
        }
      }
      const image = String(container["image"] ?? "");
      if (!/:[^/]+$/.test(image) || image.endsWith(":latest"))
        problem(w.name, `${at}.image`, `must have a fixed tag, got "${image}"`);
      list(container["envFrom"]).forEach((source, j) => {
        const cm = obj(source["configMapRef"])["name"];
        const secret = obj(source["secretRef"])["name"];
        if (typeof cm === "string" && !configMaps.has(cm))
          problem(w.name, `${at}.envFrom[${j}].configMapRef.name`, `refers to a missing ConfigMap "${cm}"`);
        if (typeof secret === "string" && !secrets.has(secret) && !external.has(secret)) {
          problem(w.name, `${at}.envFrom[${j}].secretRef.name`, `refers to a missing Secret "${secret}"`);
        }
      });
      list(container["env"]).forEach((variable, j) => {
        const secret = obj(obj(variable["valueFrom"])["secretKeyRef"])["name"];
        if (typeof secret === "string" && !secrets.has(secret) && !external.has(secret)) {
          problem(
            w.name,
            `${at}.env[${j}].valueFrom.secretKeyRef.name`,
            `refers to a missing Secret "${secret}"`,
          );
        }
      });
      if (component === "service") {
        const ports = list(container["ports"]);
        const health = ports.find((p) => p["name"] === "health");
        if (health === undefined || String(health["containerPort"]) !== config["HEALTH_PORT"]) {
          problem(
            w.name,
            `${at}.ports`,
            `must name the HEALTH_PORT (${config["HEALTH_PORT"] ?? "unset"}) "health"`,
          );
        }
        const probes: Array<[string, string]> = [
          ["livenessProbe", "/healthz"],
          ["readinessProbe", "/readyz"],
          ["startupProbe", "/healthz"],
        ];
        for (const [probe, path] of probes) {
          const get = obj(obj(container[probe])["httpGet"]);
          if (get["path"] !== path || get["port"] !== "health")
            problem(w.name, `${at}.${probe}`, `must GET ${path} on port "health"`);
        }
        const shutdownMs = Number(config["SHUTDOWN_TIMEOUT_MS"] ?? 20_000);
        if (!(shutdownMs < graceSeconds * 1000)) {
          problem(
            w.name,
            ".spec.template.spec.terminationGracePeriodSeconds",
            `must exceed SHUTDOWN_TIMEOUT_MS (${shutdownMs} ms)`,
          );
        }
      }
    });
  }

  // Services must select pods, on ports those pods name.
  for (const service of byKind("Service")) {
    const spec = obj(service["spec"]);
    const selector = obj(spec["selector"]) as Record<string, string>;
    const targets = workloads(objects).filter((w) => labelsMatch({ matchLabels: selector }, w.podLabels));
    if (targets.length === 0) problem(describeObject(service), ".spec.selector", "selects no workload");
    const type = spec["type"];
    if (
      (type === "LoadBalancer" || type === "NodePort") &&
      selector["app.kubernetes.io/name"] !== "api-gateway"
    ) {
      problem(
        describeObject(service),
        ".spec.type",
        `only the api-gateway may be exposed, got ${String(type)}`,
      );
    }
    list(spec["ports"]).forEach((port, i) => {
      const target = port["targetPort"];
      if (typeof target !== "string") return;
      const named = targets.some((w) =>
        w.containers.some((c) => list(c["ports"]).some((p) => p["name"] === target)),
      );
      if (!named)
        problem(
          describeObject(service),
          `.spec.ports[${i}].targetPort`,
          `no selected container has a port named "${target}"`,
        );
    });
  }

  // Only the api-gateway takes traffic from outside jetflow.
  const policies = byKind("NetworkPolicy");
  const denyAll = policies.some((p) => {
    const spec = obj(p["spec"]);
    return Object.keys(obj(spec["podSelector"])).length === 0 && spec["ingress"] === undefined;
  });
  if (!denyAll)
    problem(
      "NetworkPolicy",
      "",
      "a default-deny ingress policy (podSelector {}, no ingress rule) is missing",
    );
  for (const policy of policies) {
    const spec = obj(policy["spec"]);
    list(spec["ingress"]).forEach((rule, i) => {
      const from = rule["from"];
      const open = !Array.isArray(from) || from.length === 0;
      const gateway =
        obj(obj(spec["podSelector"])["matchLabels"])["app.kubernetes.io/name"] === "api-gateway";
      if (open && !gateway)
        problem(
          describeObject(policy),
          `.spec.ingress[${i}].from`,
          "opens pods other than the api-gateway to every source",
        );
    });
  }

  if (profile === "production") checkProduction(objects, config, problem);
  return problems;
}

function checkProduction(
  objects: readonly KubeObject[],
  config: Record<string, string>,
  problem: (object: string, field: string, message: string) => void,
): void {
  const all = workloads(objects);
  const pdbs = objects.filter((o) => o.kind === "PodDisruptionBudget");
  const nats = all.find(
    (w) => w.object.kind === "StatefulSet" && w.podLabels["app.kubernetes.io/name"] === "nats",
  );
  if (nats === undefined) {
    problem("StatefulSet/jetflow-nats", "", "is missing");
  } else {
    const replicas = Number(nats.spec["replicas"] ?? 1);
    if (replicas < 3)
      problem(nats.name, ".spec.replicas", `a production NATS cluster needs 3 nodes, got ${replicas}`);
    if (list(nats.spec["volumeClaimTemplates"]).length === 0)
      problem(nats.name, ".spec.volumeClaimTemplates", "must give every node a persistent volume");
    const streamReplicas = Number(config["JETFLOW_REPLICAS"] ?? 1);
    if (streamReplicas !== 3)
      problem(
        "ConfigMap/jetflow-config",
        ".data.JETFLOW_REPLICAS",
        `must be 3 (R3 streams and buckets), got ${streamReplicas}`,
      );
    const required = list(
      obj(obj(nats.pod["affinity"])["podAntiAffinity"])["requiredDuringSchedulingIgnoredDuringExecution"],
    );
    if (!required.some((term) => term["topologyKey"] === "kubernetes.io/hostname")) {
      problem(
        nats.name,
        ".spec.template.spec.affinity.podAntiAffinity",
        "must require one NATS node per Kubernetes node",
      );
    }
  }
  const urls = (config["NATS_URL"] ?? "").split(",").filter((u) => u !== "");
  if (urls.length < 3)
    problem("ConfigMap/jetflow-config", ".data.NATS_URL", `must list every NATS node, got ${urls.length}`);
  for (const w of all) {
    if (w !== nats && Number(w.spec["replicas"] ?? 1) < 2)
      problem(w.name, ".spec.replicas", "must be at least 2 in production");
    if (!pdbs.some((pdb) => labelsMatch(obj(pdb["spec"])["selector"], w.podLabels)))
      problem(w.name, "", "has no PodDisruptionBudget");
    const anti = obj(obj(w.pod["affinity"])["podAntiAffinity"]);
    if (Object.keys(anti).length === 0)
      problem(w.name, ".spec.template.spec.affinity.podAntiAffinity", "must spread replicas over nodes");
  }
  // The API is the one door from outside: in production it must be locked (docs/security.md).
  for (const w of all.filter((w) => w.podLabels["app.kubernetes.io/name"] === "api-gateway")) {
    w.containers.forEach((container, i) => {
      const env = new Map(list(container["env"]).map((e) => [e["name"], e["value"]]));
      for (const variable of ["API_AUTH", "API_TLS"]) {
        if (env.get(variable) !== "required") {
          problem(
            w.name,
            `.spec.template.spec.containers[${i}].env`,
            `must set ${variable}=required in production`,
          );
        }
      }
      // The HTTP/JSON port carries the same tokens: it is HTTPS whenever the gRPC port is TLS.
      if (env.get("HTTP_TLS") === "off") {
        problem(
          w.name,
          `.spec.template.spec.containers[${i}].env`,
          "must not set HTTP_TLS=off in production: the HTTP/JSON API carries bearer tokens too",
        );
      }
    });
  }
  const hpas = objects.filter((o) => o.kind === "HorizontalPodAutoscaler");
  const workers = all.filter((w) => w.podLabels["app.kubernetes.io/component"] === "worker");
  for (const worker of workers) {
    const name = worker.object.metadata?.name;
    if (!hpas.some((h) => obj(obj(h["spec"])["scaleTargetRef"])["name"] === name))
      problem(worker.name, "", "has no HorizontalPodAutoscaler");
  }
  for (const hpa of hpas) {
    const target = obj(obj(hpa["spec"])["scaleTargetRef"]);
    if (!all.some((w) => w.object.kind === target["kind"] && w.object.metadata?.name === target["name"])) {
      problem(
        describeObject(hpa),
        ".spec.scaleTargetRef",
        `targets a missing ${String(target["kind"])} "${String(target["name"])}"`,
      );
    }
  }
}
