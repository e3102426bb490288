/**
 * The Kubernetes manifests: each overlay renders with `kubectl kustomize` and every object passes
 * the Kubernetes schemas and jetflow's deployment rules (through the built command line, as an
 * operator or CI runs it); a broken manifest fails, naming the object and the field; the NATS
 * configuration each overlay mounts loads in nats-server; users, passwords and Secrets agree.
 */
import { execFile } from "node:child_process";
import { mkdtemp, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import { promisify } from "node:util";
import { findNatsServer } from "@jetflow/testing";
import { checkMonitorShape, checkMonitorTargets } from "../src/monitors";
import { EXTERNAL_SECRETS, checkPolicy } from "../src/policy";
import { formatProblem } from "../src/schema";
import { renderOverlay } from "../src/render";
import type { KubeObject } from "../src/render";
import { AUTH_CONF, NATS_USERS, passwordVariable } from "./support/nats-auth";

const run = promisify(execFile);
const ROOT = resolve(__dirname, "..");
const CLI = join(ROOT, "dist", "cli.js");
const DEV = join(ROOT, "k8s", "overlays", "dev");
const PRODUCTION = join(ROOT, "k8s", "overlays", "production");
const MONITORING = join(ROOT, "k8s", "monitoring");

let scratch: string;
const rendered: Record<string, KubeObject[]> = {};

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "jetflow-deploy-"));
  rendered.dev = await renderOverlay(DEV);
  rendered.production = await renderOverlay(PRODUCTION);
});

afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

async function validate(...dirs: string[]): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...dirs]);
    return { code: 0, output: stdout + stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, output: `${e.stdout ?? ""}${e.stderr ?? ""}` };
  }
}

function find(objects: KubeObject[], kind: string, prefix: string): KubeObject {
  const found = objects.find((o) => o.kind === kind && (o.metadata?.name ?? "").startsWith(prefix));
  if (found === undefined) throw new Error(`no ${kind} "${prefix}*" rendered`);
  return found;
}

interface Env {
  name: string;
  value?: string;
}

interface EnvFrom {
  secretRef?: { name: string };
}

function data(object: KubeObject): Record<string, string> {
  return (object["data"] ?? {}) as Record<string, string>;
}

it("validates every object of both overlays against the Kubernetes schemas and the rules", async () => {
  const result = await validate(DEV, PRODUCTION, MONITORING);
  expect(result.output).toBe(
    `${DEV}: ${rendered.dev?.length} objects valid (dev)\n` +
      `${PRODUCTION}: ${rendered.production?.length} objects valid (production)\n` +
      `${MONITORING}: 2 objects valid (monitors, against 2 overlays)\n`,
  );
  expect(result.code).toBe(0);
});

describe("the Prometheus Operator monitors (k8s/monitoring)", () => {
  it("stay out of the base and the overlays, which render without the Operator's CRDs", async () => {
    const base = await renderOverlay(join(ROOT, "k8s", "base"));
    for (const objects of [base, rendered.dev ?? [], rendered.production ?? []]) {
      expect(objects.filter((o) => (o.apiVersion ?? "").startsWith("monitoring.coreos.com"))).toEqual([]);
    }
  });

  it("select every service's and worker's pods, on ports their containers name", async () => {
    const monitors = await renderOverlay(MONITORING);
    expect(monitors.map((m) => `${m.kind}/${m.metadata?.name}`)).toEqual([
      "PodMonitor/jetflow-services",
      "PodMonitor/jetflow-workers",
    ]);
    for (const overlay of [rendered.dev ?? [], rendered.production ?? []]) {
      expect(checkMonitorTargets(monitors, overlay, "overlay")).toEqual([]);
      // The same pods the network policies open to the scraper, on the same ports.
      const policies = overlay.filter((o) => (o.metadata?.name ?? "").startsWith("jetflow-metrics-"));
      const opened = policies.map((p) => {
        const spec = p["spec"] as { podSelector: unknown; ingress: { ports: { port: string }[] }[] };
        return { selector: spec.podSelector, port: spec.ingress[0]?.ports[0]?.port };
      });
      for (const monitor of monitors) {
        const spec = monitor["spec"] as { selector: unknown; podMetricsEndpoints: { port: string }[] };
        expect(opened).toContainEqual({ selector: spec.selector, port: spec.podMetricsEndpoints[0]?.port });
      }
    }
  });

  it("fails a monitor that selects nothing, names a missing port or is misshapen, and a pod left unscraped", async () => {
    const dir = join(scratch, "monitors");
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, "kustomization.yaml"), "resources:\n  - monitors.yaml\n");
    await writeFile(
      join(dir, "monitors.yaml"),
      [
        "apiVersion: monitoring.coreos.com/v1",
        "kind: PodMonitor",
        "metadata: { name: services }",
        "spec:",
        "  selector: { matchLabels: { app.kubernetes.io/component: service } }",
        "  podMetricsEndpoints: [{ port: metrics, path: /metrics, intervall: 15s }]",
        "---",
        "apiVersion: monitoring.coreos.com/v1",
        "kind: PodMonitor",
        "metadata: { name: nothing }",
        "spec:",
        "  selector: { matchLabels: { app.kubernetes.io/component: workr } }",
        "  podMetricsEndpoints: [{ port: metrics, interval: often }]",
        "",
      ].join("\n"),
    );
    const result = await validate(PRODUCTION, dir);
    expect(result.code).toBe(1);
    const lines = result.output.trim().split("\n");
    expect(lines[1]).toBe(`${dir}: 14 problems (monitors, against 1 overlay)`);
    const services = ["api-gateway", "dispatcher", "orchestrator", "result-ingestor", "state-manager"];
    expect(
      lines
        .slice(2)
        .map((l) => l.trim())
        .sort(),
    ).toEqual(
      [
        "PodMonitor/services: .spec.podMetricsEndpoints[0].intervall is not a field of an endpoint",
        'PodMonitor/nothing: .spec.podMetricsEndpoints[0].interval must be a duration such as "15s", got "often"',
        `PodMonitor/nothing: .spec.selector selects no pod template of ${PRODUCTION}`,
        ...services.map(
          (name) =>
            `PodMonitor/services: .spec.podMetricsEndpoints[0].port names port "metrics", which Deployment/jetflow-${name} in jetflow of ${PRODUCTION} does not have (it has ${name === "api-gateway" ? '"grpc", "health", "http"' : '"health"'})`,
        ),
        // On a port they lack, the services are not scraped either.
        ...services.map(
          (name) =>
            `Deployment/jetflow-${name} in jetflow: is a jetflow service of ${PRODUCTION} that no monitor scrapes`,
        ),
        `Deployment/jetflow-worker-examples in jetflow: is a jetflow worker of ${PRODUCTION} that no monitor scrapes`,
      ].sort(),
    );
  });

  it("checks a ServiceMonitor against the Services' labels and port names", () => {
    const service = {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "api", labels: { app: "api" } },
      spec: { selector: { app: "api-pod" }, ports: [{ name: "http", port: 80 }] },
    };
    const pod = {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "api" },
      spec: {
        template: {
          metadata: { labels: { app: "api-pod", "app.kubernetes.io/component": "service" } },
          spec: { containers: [{ name: "api", ports: [{ name: "http", containerPort: 80 }] }] },
        },
      },
    };
    const monitor = (matchLabels: Record<string, string>, port: string) => ({
      apiVersion: "monitoring.coreos.com/v1",
      kind: "ServiceMonitor",
      metadata: { name: "api" },
      spec: { selector: { matchLabels }, endpoints: [{ port }] },
    });
    expect(checkMonitorShape(monitor({ app: "api" }, "http"))).toEqual([]);
    expect(checkMonitorTargets([monitor({ app: "api" }, "http")], [service, pod], "o")).toEqual([]);
    expect(
      checkMonitorTargets([monitor({ app: "api" }, "metrics")], [service, pod], "o").map(formatProblem),
    ).toEqual([
      'ServiceMonitor/api: .spec.endpoints[0].port names port "metrics", which Service/api of o does not have (it has "http")',
      "Deployment/api: is a jetflow service of o that no monitor scrapes",
    ]);
    expect(
      checkMonitorTargets([monitor({ app: "web" }, "http")], [service, pod], "o").map(formatProblem),
    ).toEqual([
      "ServiceMonitor/api: .spec.selector selects no Service of o",
      "Deployment/api: is a jetflow service of o that no monitor scrapes",
    ]);
  });
});

it("fails a broken manifest, naming the object and the field", async () => {
  // An overlay on top of production that breaks one thing of each sort, written (like the
  // overlays) for the kustomize of kubectl 1.20 too: a directory under bases, JSON patches in files.
  const dir = join(scratch, "production");
  await mkdir(dir, { recursive: true });
  await writeFile(
    join(dir, "typo.yaml"),
    "apiVersion: apps/v1\nkind: Deploymnet\nmetadata:\n  name: typo\nspec: {}\n",
  );
  // One JSON patch file per target (kubectl 1.20 needs the target's group and version).
  const patches: Array<{ target: string; ops: string[] }> = [
    {
      target: "{ group: apps, version: v1, kind: Deployment, name: jetflow-orchestrator }",
      ops: [
        "{ op: replace, path: /spec/template/spec/containers/0/ports/0/containerPort, value: health }",
        "{ op: remove, path: /spec/template/spec/containers/0/readinessProbe }",
        "{ op: replace, path: /spec/replicas, value: 1 }",
      ],
    },
    {
      target: "{ version: v1, kind: Service, name: jetflow-nats }",
      ops: ["{ op: replace, path: /spec/type, value: LoadBalancer }"],
    },
    // Misspelt fields: valid for the schemas, caught as unknown fields.
    {
      target: "{ group: apps, version: v1, kind: Deployment, name: jetflow-dispatcher }",
      ops: [
        "{ op: add, path: /spec/template/spec/containers/0/readinesProbe, value: { httpGet: { port: health } } }",
        "{ op: add, path: /spec/replica, value: 3 }",
        "{ op: add, path: /metadata/lables, value: { a: b } }",
      ],
    },
    {
      target: "{ group: apps, version: v1, kind: StatefulSet, name: jetflow-nats }",
      ops: ["{ op: replace, path: /spec/template/spec/securityContext/runAsNonRoot, value: false }"],
    },
    // An open API, a plaintext HTTP port, and a certificate Secret nobody creates.
    {
      target: "{ group: apps, version: v1, kind: Deployment, name: jetflow-api-gateway }",
      ops: [
        '{ op: add, path: /spec/template/spec/containers/0/env/-, value: { name: HTTP_TLS, value: "off" } }',
        "{ op: test, path: /spec/template/spec/containers/0/env/0/name, value: API_AUTH }",
        "{ op: replace, path: /spec/template/spec/containers/0/env/0/value, value: none }",
        "{ op: test, path: /spec/template/spec/volumes/1/name, value: api-tls }",
        "{ op: replace, path: /spec/template/spec/volumes/1/secret/secretName, value: jetflow-api-tsl }",
      ],
    },
  ];
  const targets: string[] = [];
  for (const [i, patch] of patches.entries()) {
    const file = `patch-${i}.yaml`;
    await writeFile(join(dir, file), patch.ops.map((op) => `- ${op}\n`).join(""));
    targets.push(`  - target: ${patch.target}`, `    path: ${file}`);
  }
  await writeFile(
    join(dir, "kustomization.yaml"),
    [
      "apiVersion: kustomize.config.k8s.io/v1beta1",
      "kind: Kustomization",
      "bases:",
      `  - ${relative(dir, PRODUCTION)}`,
      "resources:",
      "  - typo.yaml",
      "patchesJson6902:",
      ...targets,
      "",
    ].join("\n"),
  );
  const result = await validate(dir);
  expect(result.code).toBe(1);
  const lines = result.output.trim().split("\n");
  expect(lines[0]).toBe(`${dir}: 13 problems (production)`);
  const orchestrator = "Deployment/jetflow-orchestrator in jetflow";
  const gateway = "Deployment/jetflow-api-gateway in jetflow";
  expect(
    lines
      .slice(1)
      .map((l) => l.trim())
      .sort(),
  ).toEqual(
    [
      `${orchestrator}: .spec.template.spec.containers[0].ports[0].containerPort must be integer`,
      `${orchestrator}: .spec.template.spec.containers[0].ports must name the HEALTH_PORT (8080) "health"`,
      `${orchestrator}: .spec.template.spec.containers[0].readinessProbe must GET /readyz on port "health"`,
      `${orchestrator}: .spec.replicas must be at least 2 in production`,
      `${gateway}: .spec.template.spec.containers[0].env must set API_AUTH=required in production`,
      `${gateway}: .spec.template.spec.containers[0].env must not set HTTP_TLS=off in production: the HTTP/JSON API carries bearer tokens too`,
      `${gateway}: .spec.template.spec.volumes[1].secret.secretName refers to a missing Secret "jetflow-api-tsl"`,
      "Deployment/jetflow-dispatcher in jetflow: .metadata.lables is not a field of ObjectMeta",
      "Deployment/jetflow-dispatcher in jetflow: .spec.replica is not a field of DeploymentSpec",
      "Deployment/jetflow-dispatcher in jetflow: .spec.template.spec.containers[0].readinesProbe is not a field of Container",
      // kustomize does not know the kind, so it does not namespace it either.
      'Deploymnet/typo: no Kubernetes schema for apiVersion "apps/v1" and kind "Deploymnet"',
      "Service/jetflow-nats in jetflow: .spec.type only the api-gateway may be exposed, got LoadBalancer",
      "StatefulSet/jetflow-nats in jetflow: .spec.template.spec.securityContext.runAsNonRoot must be true",
    ].sort(),
  );
});

it("caps every Node.js process's heap below its container's memory limit", () => {
  const dev = rendered.dev ?? [];
  expect(data(find(dev, "ConfigMap", "jetflow-config"))["NODE_OPTIONS"]).toBe("--max-old-space-size=384");
  expect(checkPolicy(dev, "dev")).toEqual([]);
  // The same objects with the orchestrator's limit lowered, then without the cap.
  const copy = JSON.parse(JSON.stringify(dev)) as KubeObject[];
  const orchestrator = find(copy, "Deployment", "jetflow-orchestrator") as {
    spec: { template: { spec: { containers: { resources: { limits: { memory: string } } }[] } } };
  };
  const container = orchestrator.spec.template.spec.containers[0];
  if (container === undefined) throw new Error("the orchestrator has no container");
  container.resources.limits.memory = "448Mi";
  expect(checkPolicy(copy, "dev").map(formatProblem)).toEqual([
    "Deployment/jetflow-orchestrator in jetflow-dev: .spec.template.spec.containers[0].resources.limits.memory must leave room above the heap cap: --max-old-space-size=384 (jetflow-config NODE_OPTIONS) is over 75% of 448 MiB",
  ]);
  delete data(find(copy, "ConfigMap", "jetflow-config"))["NODE_OPTIONS"];
  expect(checkPolicy(copy, "dev").map(formatProblem)).toEqual([
    "ConfigMap/jetflow-config: .data.NODE_OPTIONS must set --max-old-space-size below the containers' memory limit",
  ]);
});

it("gives nats-server a Go memory limit below its container's, in both overlays", () => {
  type Nats = {
    spec: {
      template: {
        spec: {
          containers: {
            name: string;
            env?: { name: string; value?: string }[];
            resources: { limits: { memory: string } };
          }[];
        };
      };
    };
  };
  const natsContainer = (objects: KubeObject[]) => {
    const container = (
      find(objects, "StatefulSet", "jetflow-nats") as Nats
    ).spec.template.spec.containers.find((c) => c.name === "nats");
    if (container === undefined) throw new Error("no nats container");
    return container;
  };
  const goLimit = (objects: KubeObject[]) =>
    natsContainer(objects).env?.find((e) => e.name === "GOMEMLIMIT")?.value;
  expect(goLimit(rendered.dev ?? [])).toBe("900MiB");
  expect(goLimit(rendered.production ?? [])).toBe("3600MiB");
  expect(natsContainer(rendered.production ?? []).resources.limits.memory).toBe("4Gi");

  const copy = JSON.parse(JSON.stringify(rendered.dev ?? [])) as KubeObject[];
  natsContainer(copy).resources.limits.memory = "768Mi";
  const nats = "StatefulSet/jetflow-nats in jetflow-dev";
  expect(checkPolicy(copy, "dev").map(formatProblem)).toEqual([
    `${nats}: .spec.template.spec.containers[0].env GOMEMLIMIT 900MiB is over 90% of limits.memory (768 MiB)`,
  ]);
  const container = natsContainer(copy);
  container.env = (container.env ?? []).filter((e) => e.name !== "GOMEMLIMIT");
  expect(checkPolicy(copy, "dev").map(formatProblem)).toEqual([
    `${nats}: .spec.template.spec.containers[0].env must set GOMEMLIMIT (in MiB or GiB) below limits.memory, got null`,
  ]);
});

it("fails an overlay that does not render", async () => {
  const dir = join(scratch, "missing");
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "kustomization.yaml"), "resources:\n  - nowhere.yaml\n");
  const result = await validate(dir);
  expect(result.code).toBe(1);
  expect(result.output).toContain(`cannot render "${dir}"`);
});

it("runs the production topology: three NATS nodes, R3, two replicas of everything", () => {
  const production = rendered.production ?? [];
  expect(checkPolicy(production, "production")).toEqual([]);
  const nats = find(production, "StatefulSet", "jetflow-nats") as { spec?: { replicas?: number } };
  expect(nats.spec?.replicas).toBe(3);
  expect(data(find(production, "ConfigMap", "jetflow-config"))["JETFLOW_REPLICAS"]).toBe("3");
  expect(data(find(production, "ConfigMap", "jetflow-nats-config"))["cluster.conf"]).toContain(
    "jetflow-nats-2.jetflow-nats-headless:6222",
  );
  // The dev overlay is not a production topology, and the rules say so.
  expect(checkPolicy(rendered.dev ?? [], "production").map((p) => p.message)).toEqual(
    expect.arrayContaining([
      "a production NATS cluster needs 3 nodes, got 1",
      "must be at least 2 in production",
    ]),
  );
});

it("locks the production API: TLS on both ports from a Secret, hashed tokens from a file, rate limits; dev stays open", () => {
  type Container = {
    env?: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[];
    volumeMounts?: { name: string; mountPath: string }[];
  };
  type Gateway = {
    spec?: {
      template?: {
        spec?: {
          containers?: Container[];
          volumes?: { name: string; secret?: { secretName: string } }[];
          securityContext?: { fsGroup?: number; runAsGroup?: number };
        };
      };
    };
  };
  const gateway = (overlay: "dev" | "production") =>
    (find(rendered[overlay] ?? [], "Deployment", "jetflow-api-gateway") as Gateway).spec?.template?.spec;
  const production = gateway("production");
  const env = Object.fromEntries((production?.containers?.[0]?.env ?? []).map((e) => [e.name, e]));
  expect(env["API_AUTH"]?.value).toBe("required");
  expect(env["API_TLS"]?.value).toBe("required");
  // A file, not a variable: the gateway re-reads it when the kubelet updates the Secret.
  const tokensMount = production?.containers?.[0]?.volumeMounts?.find((m) => m.name === "api-tokens");
  expect(env["API_TOKENS_FILE"]?.value).toBe(`${tokensMount?.mountPath}/tokens.json`);
  expect(production?.volumes?.find((v) => v.name === "api-tokens")?.secret?.secretName).toBe(
    "jetflow-api-tokens",
  );
  expect(env["API_TOKENS"]).toBeUndefined();
  const mount = production?.containers?.[0]?.volumeMounts?.find((m) => m.name === "api-tls");
  expect(env["API_TLS_CERT"]?.value).toBe(`${mount?.mountPath}/tls.crt`);
  expect(production?.volumes?.find((v) => v.name === "api-tls")?.secret?.secretName).toBe("jetflow-api-tls");
  // The Secret files are 0440: readable through the pod's group.
  expect(production?.securityContext?.fsGroup).toBe(production?.securityContext?.runAsGroup);
  // The HTTP port serves HTTPS with the same certificate (HTTP_TLS unset: it follows API_TLS_*).
  expect(env["HTTP_TLS"]).toBeUndefined();
  const service = find(rendered.production ?? [], "Service", "jetflow-api-gateway") as {
    spec?: { ports?: { name: string; appProtocol?: string }[] };
  };
  expect(service.spec?.ports?.find((p) => p.name === "http")?.appProtocol).toBe("https");
  expect(Number(env["API_RATE_LIMIT_PER_S"]?.value)).toBeGreaterThan(0);
  expect((gateway("dev")?.containers?.[0]?.env ?? []).map((e) => e.name)).not.toContain("API_AUTH");
});

it("limits egress: services to NATS and DNS, the api-gateway also HTTPS, NATS to its routes", () => {
  type Policy = {
    spec?: {
      podSelector?: { matchLabels?: Record<string, string> };
      egress?: {
        to?: { podSelector?: { matchLabels?: Record<string, string> } }[];
        ports?: { port: unknown }[];
      }[];
    };
  };
  for (const overlay of ["dev", "production"] as const) {
    const policy = (name: string) => (find(rendered[overlay] ?? [], "NetworkPolicy", name) as Policy).spec;
    const ports = (name: string) =>
      (policy(name)?.egress ?? []).flatMap((rule) => (rule.ports ?? []).map((p) => p.port));
    expect(policy("jetflow-services-egress")?.podSelector?.matchLabels).toEqual({
      "app.kubernetes.io/component": "service",
      "app.kubernetes.io/part-of": "jetflow",
    });
    expect(ports("jetflow-services-egress")).toEqual(["client", 53, 53]);
    expect(policy("jetflow-services-egress")?.egress?.[0]?.to?.[0]?.podSelector?.matchLabels).toMatchObject({
      "app.kubernetes.io/name": "nats",
    });
    expect(ports("jetflow-api-gateway-egress")).toEqual([443]);
    expect(ports("jetflow-nats-egress")).toEqual(["cluster", 53, 53]);
  }
});

describe("the NATS configuration", () => {
  /** What the Secret jetflow-nats-tls holds (tls.crt, tls.key, ca.crt), made with openssl. */
  async function writeNatsCertificates(dir: string): Promise<void> {
    await mkdir(dir, { recursive: true });
    const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
    const openssl = (args: string[]) => run("openssl", args, { cwd: dir });
    await openssl([
      "req",
      "-x509",
      ...ec,
      "-keyout",
      "ca.key",
      "-out",
      "ca.crt",
      "-days",
      "1",
      "-subj",
      "/CN=ca",
    ]);
    await openssl(["req", ...ec, "-keyout", "tls.key", "-out", "tls.csr", "-subj", "/CN=jetflow-nats"]);
    await writeFile(join(dir, "ext"), "subjectAltName=DNS:jetflow-nats,DNS:*.jetflow-nats-headless\n");
    await openssl(
      ["x509", "-req", "-in", "tls.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial"].concat([
        "-days",
        "1",
        "-extfile",
        "ext",
        "-out",
        "tls.crt",
      ]),
    );
  }

  /** Writes the overlay's nats ConfigMap files into a directory and checks them with `nats-server -t`. */
  async function testConfig(overlay: "dev" | "production", env: Record<string, string>): Promise<string> {
    const dir = join(scratch, `nats-${overlay}`);
    await mkdir(dir, { recursive: true });
    await writeNatsCertificates(join(dir, "tls"));
    for (const [file, text] of Object.entries(
      data(find(rendered[overlay] ?? [], "ConfigMap", "jetflow-nats-config")),
    )) {
      // Where nats-tls.yaml mounts the Secret jetflow-nats-tls, here a throw-away CA's files.
      await writeFile(join(dir, file), text.replaceAll("/etc/nats/tls/", `${join(dir, "tls")}/`));
    }
    const bin = await findNatsServer();
    const { stdout, stderr } = await run(bin, ["-t", "-c", join(dir, "nats.conf")], {
      env: { PATH: process.env.PATH, POD_NAME: "jetflow-nats-0", ...env },
    });
    return stdout + stderr;
  }

  it("loads in nats-server with the dev overlay's passwords", async () => {
    const secret = find(rendered.dev ?? [], "Secret", "jetflow-nats-server-passwords");
    const env = Object.fromEntries(
      Object.entries(data(secret)).map(([k, v]) => [k, Buffer.from(v, "base64").toString("utf8")]),
    );
    await expect(testConfig("dev", env)).resolves.toContain("is valid");
  });

  it("loads in nats-server in production with bcrypt-hashed passwords", async () => {
    // What deploy/scripts/nats-credentials.sh stores: a bcrypt hash, double-quoted for the config parser.
    const hash = '"$2a$11$Xrc3e.I/7hB0Hf3ZfSuJxOUj9ShRdsuqJF0bnyPRwgjIi5f8Rr8fO"';
    const env = Object.fromEntries(NATS_USERS.map((user) => [passwordVariable(user), hash]));
    await expect(testConfig("production", env)).resolves.toContain("is valid");
    // Clients and routes over TLS; the services trust the CA that jetflow-nats-ca holds.
    const conf =
      data(find(rendered.production ?? [], "ConfigMap", "jetflow-nats-config"))["cluster.conf"] ?? "";
    expect(conf.match(/tls \{/g)?.length).toBe(2);
    expect(data(find(rendered.production ?? [], "ConfigMap", "jetflow-config"))["NATS_TLS_CA"]).toBe(
      "/etc/jetflow/nats-ca/ca.crt",
    );
  });

  it("has a Secret for every user and a user for every Secret", async () => {
    const auth = await readFile(AUTH_CONF, "utf8");
    const users = [...auth.matchAll(/\{ user: "([a-z-]+)", password: \$([A-Z_]+),/g)];
    expect(users.map((m) => m[1])).toEqual([...NATS_USERS]);
    expect(users.map((m) => m[2])).toEqual(NATS_USERS.map(passwordVariable));
    const dev = rendered.dev ?? [];
    const serverPasswords = data(find(dev, "Secret", "jetflow-nats-server-passwords"));
    expect(Object.keys(serverPasswords).sort()).toEqual(NATS_USERS.map(passwordVariable).sort());
    for (const user of NATS_USERS) {
      const login = data(find(dev, "Secret", `jetflow-nats-${user}-`));
      expect(Buffer.from(login["NATS_USER"] ?? "", "base64").toString()).toBe(user);
      expect(Buffer.from(login["NATS_PASSWORD"] ?? "", "base64").toString()).toBe(
        Buffer.from(serverPasswords[passwordVariable(user)] ?? "", "base64").toString(),
      );
    }
    // A worker Deployment runs only activities its NATS user may consume.
    for (const worker of dev.filter(
      (o) => o.kind === "Deployment" && (o.metadata?.name ?? "").includes("worker-"),
    )) {
      const container = (
        worker as {
          spec: { template: { spec: { containers: Array<{ env?: Env[]; envFrom?: EnvFrom[] }> } } };
        }
      ).spec.template.spec.containers[0];
      const activities = (container?.env?.find((e) => e.name === "ACTIVITIES")?.value ?? "").split(",");
      const secretName = container?.envFrom?.find((e) => e.secretRef !== undefined)?.secretRef?.name ?? "";
      const user = Buffer.from(data(find(dev, "Secret", secretName))["NATS_USER"] ?? "", "base64").toString();
      const block = auth.slice(
        auth.indexOf(`${passwordVariable(user).replace("JETFLOW_NATS_PASSWORD_", "")}_PERMISSIONS = {`),
      );
      const allowed = [
        ...block
          .slice(0, block.indexOf("\n}\n"))
          .matchAll(/CONSUMER\.CREATE\.JETFLOW_TASKS\.tasks-([a-z-]+)\./g),
      ];
      expect(activities.length).toBeGreaterThan(0);
      expect(activities.sort()).toEqual(allowed.map((m) => m[1]).sort());
    }
    // The NATS Secrets nats-credentials.sh makes, and the TLS and token ones (docs/deploy.md).
    expect([...EXTERNAL_SECRETS].sort()).toEqual(
      [
        "jetflow-api-tls",
        "jetflow-api-tokens",
        "jetflow-nats-ca",
        "jetflow-nats-tls",
        "jetflow-nats-server-passwords",
        ...NATS_USERS.map((user) => `jetflow-nats-${user}`),
      ].sort(),
    );
  });
});
