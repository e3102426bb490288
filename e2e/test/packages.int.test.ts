/**
 * The published packages as a user outside the monorepo gets them: `pnpm pack` each one (so
 * `workspace:` ranges become real versions), `npm install` the tarballs into a fresh project in
 * the OS temp dir, compile a TypeScript worker and a client script there with tsc, and run a
 * workflow to SUCCEEDED against the engine; then the same with `npx jetflow`.
 * npm fetches the third-party dependencies from its cache or the registry.
 */
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { ManagedProcess, startEngine } from "../src";
import type { Engine } from "../src";

const execFileAsync = promisify(execFile);

/** Runs a command; a failure's message carries what the command printed. */
async function run(
  command: string,
  args: string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv; timeout?: number },
): Promise<{ stdout: string; stderr: string }> {
  try {
    return await execFileAsync(command, args, options);
  } catch (err) {
    const { stdout = "", stderr = "" } = err as { stdout?: string; stderr?: string };
    throw new Error(`${command} ${args.join(" ")} failed:\n${stdout}\n${stderr}`, { cause: err });
  }
}
const ROOT = resolve(__dirname, "../..");
const PUBLISHED = ["contracts", "asl", "worker-sdk", "client", "cli"] as const;
const TSC = join(ROOT, "node_modules/typescript/bin/tsc");

let engine: Engine;
let worker: ManagedProcess | undefined;
const project = mkdtempSync(join(tmpdir(), "jetflow-user-project-"));

const WORKER_TS = `
import { runWorker } from "@jetflow/worker-sdk";
import type { TaskContext } from "@jetflow/worker-sdk";

async function main(): Promise<void> {
  await runWorker({
    "pkg-greet": (input: { who: string }, ctx: TaskContext) => ({
      greeting: "hello " + input.who,
      attempt: ctx.attempt,
      rootExecutionId: ctx.rootExecutionId,
    }),
  });
  console.log("worker started");
}
void main();
`;

const CLIENT_TS = `
import { createClient, ExecutionStatus } from "@jetflow/client";

async function main(): Promise<void> {
  const client = createClient({ address: process.env.JETFLOW_ADDR });
  const definition = JSON.stringify({
    StartAt: "Greet",
    States: { Greet: { Type: "Task", Resource: "pkg-greet", End: true } },
  });
  await client.registerWorkflow({ name: "pkg-hello", definition });
  const { executionId } = await client.startExecution({ workflowName: "pkg-hello", input: { who: "npm" } });
  const done = await client.waitForExecution(executionId, { timeoutMs: 30_000 });
  const status: string = ExecutionStatus[done.execution?.status ?? 0];
  console.log(JSON.stringify({ executionId, status, output: done.outputJson }));
  client.close();
}
void main();
`;

const TSCONFIG = {
  compilerOptions: {
    strict: true,
    module: "node16",
    target: "es2022",
    outDir: "dist",
    types: ["node"],
  },
  include: ["src"],
};

beforeAll(async () => {
  const tarballs = join(project, "tarballs");
  mkdirSync(tarballs);
  const [started, built] = await Promise.allSettled([
    startEngine(),
    (async () => {
      for (const name of PUBLISHED) {
        await run("pnpm", ["pack", "--pack-destination", tarballs], { cwd: join(ROOT, "packages", name) });
      }
      const dependencies: Record<string, string> = { "@types/node": "20.19.43" };
      for (const file of readdirSync(tarballs)) {
        const name = /^jetflow-(.+)-\d+\.\d+\.\d+\.tgz$/.exec(file)?.[1];
        if (name) dependencies[`@jetflow/${name}`] = `file:tarballs/${file}`;
      }
      writeFileSync(
        join(project, "package.json"),
        JSON.stringify({ name: "user-project", private: true, dependencies }, null, 2),
      );
      await run("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error"], {
        cwd: project,
        timeout: 90_000,
      });
      mkdirSync(join(project, "src"));
      writeFileSync(join(project, "src/worker.ts"), WORKER_TS);
      writeFileSync(join(project, "src/client.ts"), CLIENT_TS);
      writeFileSync(join(project, "tsconfig.json"), JSON.stringify(TSCONFIG));
      await run(process.execPath, [TSC, "-p", "."], { cwd: project });
    })(),
  ]);
  // The engine is stopped by afterAll even when the build failed.
  if (started.status === "rejected") throw started.reason;
  engine = started.value;
  if (built.status === "rejected") throw built.reason;
  worker = new ManagedProcess(
    "user-worker",
    join(project, "dist/worker.js"),
    { PATH: process.env.PATH, NATS_URL: engine.natsUrl },
    join(engine.logDir, "user-worker.log"),
  );
  worker.start();
}, 150_000);

afterAll(async () => {
  await worker?.stop();
  await engine?.stop();
  rmSync(project, { recursive: true, force: true });
});

test("a TypeScript worker and client built from the installed tarballs run a workflow to SUCCEEDED", async () => {
  const { stdout } = await run(process.execPath, [join(project, "dist/client.js")], {
    cwd: project,
    env: { PATH: process.env.PATH, JETFLOW_ADDR: engine.grpcAddress },
    timeout: 60_000,
  });
  const result = JSON.parse(stdout) as { executionId: string; status: string; output: string };
  expect(result.status).toBe("EXECUTION_STATUS_SUCCEEDED");
  expect(JSON.parse(result.output)).toEqual({
    greeting: "hello npm",
    attempt: 1,
    rootExecutionId: result.executionId,
  });
});

test("npx jetflow from the installed CLI tarball registers, starts and waits for a workflow", async () => {
  const npx = (...args: string[]) =>
    run("npx", ["--no-install", "jetflow", ...args], {
      cwd: project,
      env: { PATH: process.env.PATH, JETFLOW_ADDR: engine.grpcAddress },
      timeout: 60_000,
    });
  writeFileSync(
    join(project, "pkg-cli.asl.json"),
    JSON.stringify({
      StartAt: "Greet",
      States: { Greet: { Type: "Task", Resource: "pkg-greet", End: true } },
    }),
  );
  expect((await npx("validate", "pkg-cli.asl.json")).stdout).toContain("pkg-cli.asl.json");
  await npx("register", "pkg-cli.asl.json");
  // Exits non-zero (and `run` rejects) unless the execution succeeds.
  const { stdout } = await npx("start", "pkg-cli", "--input", '{"who":"npx"}', "--wait");
  expect(stdout).toContain("SUCCEEDED");
  expect(stdout).toContain("hello npx");
});
