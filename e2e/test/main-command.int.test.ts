/**
 * The README's main command, `./scripts/start.sh`, from a clean clone of the committed tree: it
 * installs, builds, starts nats-server, the services and the example worker, runs the order
 * fulfilment example to success, and stops everything on Ctrl-C; started again, it still has the
 * execution (JetStream data in .jetflow/nats).
 */
import { execFileSync, spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { freePorts, waitFor } from "@jetflow/testing";

const REPO = resolve(__dirname, "../..");
const clone = mkdtempSync(join(tmpdir(), "jetflow-main-command-"));
let env: NodeJS.ProcessEnv;
let running: { child: ChildProcess; output: () => string; exit: Promise<number | null> } | undefined;
const seenPids = new Set<number>();

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Runs scripts/start.sh in the clone, in its own process group as a terminal would. */
function start(extraEnv: Record<string, string> = {}) {
  const child = spawn("bash", ["scripts/start.sh"], {
    cwd: clone,
    env: { ...env, ...extraEnv },
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exit = new Promise<number | null>((resolveExit) => child.once("exit", (code) => resolveExit(code)));
  running = { child, output: () => output, exit };
  return running;
}

/** Waits until the script prints `pattern`, failing at once (with its output) if it exits. */
async function waitForOutput(run: NonNullable<typeof running>, pattern: RegExp, timeoutMs: number) {
  let exited = false;
  void run.exit.then(() => (exited = true));
  const match = await waitFor(
    () => {
      recordPids();
      if (exited) throw new Error(`start.sh exited early:\n${run.output()}`);
      return pattern.exec(run.output()) ?? undefined;
    },
    { timeoutMs, intervalMs: 200, message: `start.sh did not print ${pattern}` },
  ).catch((err: unknown) => {
    throw new Error(`${err instanceof Error ? err.message : String(err)}\n--- output ---\n${run.output()}`);
  });
  recordPids();
  return match;
}

/** Remembers the processes start.sh says it started (.jetflow/run/pids: "<pid> <name>" lines). */
function recordPids(): void {
  let text: string;
  try {
    text = readFileSync(join(clone, ".jetflow/run/pids"), "utf8");
  } catch {
    return; // Not started yet, or already stopped (the script removes the file).
  }
  for (const line of text.trim().split("\n")) {
    const pid = Number(line.split(" ")[0]);
    if (pid > 0) seenPids.add(pid);
  }
}

/** Ctrl-C: SIGINT to the script's process group; resolves with its exit code. */
async function interrupt(run: NonNullable<typeof running>): Promise<number | null> {
  process.kill(-(run.child.pid as number), "SIGINT");
  const code = await run.exit;
  running = undefined;
  return code;
}

function jetflow(...args: string[]): string {
  return execFileSync(join(clone, "scripts/jetflow"), args, { env, encoding: "utf8" });
}

beforeAll(async () => {
  execFileSync("git", ["clone", "--quiet", REPO, clone]);
  const [natsPort, apiPort] = await freePorts(2);
  env = { ...process.env, JETFLOW_NATS_PORT: String(natsPort), JETFLOW_ADDR: `127.0.0.1:${apiPort}` };
  delete env["FORCE_COLOR"];
  delete env["JETFLOW_EXAMPLE"];
});

afterAll(async () => {
  // Only after a failed assertion is anything left. Ctrl-C first, so the script stops what it
  // started; then end whatever remains, by the pids the script recorded.
  if (running?.child.pid !== undefined && alive(running.child.pid)) {
    process.kill(-running.child.pid, "SIGINT");
    await Promise.race([running.exit, new Promise((r) => setTimeout(r, 30_000).unref())]);
  }
  recordPids();
  if (running?.child.pid !== undefined && alive(-running.child.pid))
    process.kill(-running.child.pid, "SIGKILL");
  for (const pid of seenPids) if (alive(pid)) process.kill(pid, "SIGKILL");
  rmSync(clone, { recursive: true, force: true });
});

it("runs the order fulfilment example to success, stops cleanly on Ctrl-C and keeps its data", async () => {
  const first = start();
  const [, executionId] = await waitForOutput(
    first,
    /==> the order-fulfilment execution (\S+) succeeded/,
    150_000,
  );
  await waitForOutput(first, /==> jetflow is running\. Press Ctrl-C to stop\./, 10_000);
  expect(first.output()).toMatch(/→ ReserveAndCharge \(Parallel\) {2}2 branches/);
  expect(first.output()).toMatch(/✔ SUCCEEDED in /);
  // The CLI of the clone finds the running engine by itself.
  expect(JSON.parse(jetflow("--json", "describe", executionId as string))).toMatchObject({
    status: "SUCCEEDED",
    output: { orderId: "ord-1001", status: "shipped" },
  });

  expect(await interrupt(first)).toBe(0);
  expect(first.output()).toContain("==> stopped cleanly");
  expect([...seenPids].filter(alive)).toEqual([]);
  expect(alive(-(first.child.pid as number))).toBe(false);

  // Started again, the engine still knows the execution: the data lives in .jetflow/nats.
  const second = start({ JETFLOW_EXAMPLE: "none" });
  await waitForOutput(second, /==> jetflow is running\. Press Ctrl-C to stop\./, 120_000);
  expect(second.output()).toContain("✓ order-fulfilment version 1 is already registered (same definition)");
  expect(JSON.parse(jetflow("--json", "describe", executionId as string))).toMatchObject({
    status: "SUCCEEDED",
  });
  expect(await interrupt(second)).toBe(0);
  expect([...seenPids].filter(alive)).toEqual([]);
}, 300_000);
