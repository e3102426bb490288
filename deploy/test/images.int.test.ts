/**
 * The image build: scripts/build-images.sh names one image per service and the example worker as
 * deploy/k8s expects, and says so plainly when no Docker engine is there. Building the images
 * needs an engine, which the test machines lack: the Dockerfile itself is checked for its shape.
 */
import { execFile } from "node:child_process";
import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { renderOverlay } from "../src/render";

const run = promisify(execFile);
const REPO = resolve(__dirname, "../..");
const SCRIPT = join(REPO, "scripts", "build-images.sh");

let scratch: string;

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "jetflow-images-"));
});

afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

it("builds every image the manifests use, tagged as they expect", async () => {
  const { stdout } = await run("bash", [SCRIPT, "--dry-run", "--push"], {
    env: { PATH: process.env.PATH, REGISTRY: "registry.example/jetflow", TAG: "1.2.3" },
  });
  const lines = stdout.trim().split("\n");
  const built = lines
    .filter((l) => l.startsWith("docker build"))
    .map((l) => l.split(" -t ")[1]?.split(" ")[0]);
  expect(lines.filter((l) => l.startsWith("docker push"))).toHaveLength(built.length);
  const images = (await renderOverlay(join(REPO, "deploy", "k8s", "overlays", "production")))
    .flatMap((o) => {
      const spec = o["spec"] as
        { template?: { spec?: { containers?: Array<{ image: string }> } } } | undefined;
      return spec?.template?.spec?.containers ?? [];
    })
    .map((c) => c.image.split(":")[0] ?? "")
    .filter((image) => image.startsWith("jetflow/"));
  expect(
    built
      .map((t) => (t ?? "").replace("registry.example/", ""))
      .map((t) => t.split(":")[0])
      .sort(),
  ).toEqual([...new Set(images)].sort());
  expect(built.every((t) => t?.endsWith(":1.2.3"))).toBe(true);
  expect(lines).toContain(
    "docker build --build-arg PACKAGE=@jetflow/examples --build-arg ENTRY=dist/worker.js -t registry.example/jetflow/examples:1.2.3 .",
  );
});

it("says there is no Docker engine instead of failing obscurely", async () => {
  // A docker client whose engine does not answer, as on the test machines.
  const bin = join(scratch, "bin");
  await run("mkdir", ["-p", bin]);
  await writeFile(join(bin, "docker"), '#!/bin/sh\necho "Cannot connect to the Docker daemon" >&2\nexit 1\n');
  await chmod(join(bin, "docker"), 0o755);
  const failed = await run("bash", [SCRIPT], { env: { PATH: `${bin}:${process.env.PATH}` } }).then(
    () => undefined,
    (err: { code?: number; stderr?: string }) => err,
  );
  expect(failed?.code).toBe(1);
  expect(failed?.stderr).toContain("docker cannot reach a Docker engine");
});

it("builds small, production-only, non-root images", async () => {
  const dockerfile = await readFile(join(REPO, "Dockerfile"), "utf8");
  const stages = dockerfile.split("\n").filter((l) => l.startsWith("FROM "));
  expect(stages).toEqual([
    "FROM node:${NODE_MAJOR}-bookworm-slim AS build",
    "FROM node:${NODE_MAJOR}-alpine AS runtime",
  ]);
  expect(dockerfile).toContain('pnpm --filter "$PACKAGE" deploy --prod');
  expect(dockerfile).toContain("ENV NODE_ENV=production");
  expect(dockerfile).toMatch(/\nUSER 1000:1000\n/);
  expect(dockerfile).toContain('CMD ["node", "start.js"]');
  const ignored = await readFile(join(REPO, ".dockerignore"), "utf8");
  expect(ignored.split("\n")).toEqual(expect.arrayContaining(["**/node_modules", "**/dist", ".git"]));
});
