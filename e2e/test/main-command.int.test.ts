/**
 * The README's main command, `./scripts/start.sh`, from a clean clone of the committed tree: it
 * installs, builds, starts nats-server, the services and the example worker, runs the order
 * fulfilment example to success, serves the web console at the address it prints, and stops
 * everything on Ctrl-C (or on SIGTERM, even repeated); started again, it still has the execution
 * (JetStream data in .jetflow/nats).
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

/** Runs another start.sh in the clone to its end (it is expected to refuse at once). */
function startToEnd(extraEnv: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolveRun, reject) => {
    const child = spawn("bash", ["scripts/start.sh"], { cwd: clone, env: { ...env, ...extraEnv } });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.once("error", reject);
    child.once("close", (code) => resolveRun({ code, output }));
  });
}

/** The pid start.sh recorded for `name` (.jetflow/run/pids). */
function recordedPid(name: string): number {
  const text = readFileSync(join(clone, ".jetflow/run/pids"), "utf8");
  const line = text.split("\n").find((l) => l.endsWith(` ${name}`));
  if (line === undefined) throw new Error(`no ${name} in .jetflow/run/pids:\n${text}`);
  return Number(line.split(" ")[0]);
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
  // The web console is served at the address the script prints: its page, and the script the
  // page loads from the console's build.
  const [, consoleUrl] = await waitForOutput(first, /web console {2}(http:\/\/\S+\/) /, 10_000);
  const page = await fetch(consoleUrl as string);
  expect(page.status).toBe(200);
  expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
  const html = await page.text();
  expect(html).toContain("<title>jetflow console</title>");
  expect(html).toContain('<div id="root"></div>');
  const bundle = /<script type="module"[^>]* src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
  expect(bundle).toBeDefined();
  const asset = await fetch(new URL(bundle as string, consoleUrl));
  expect(asset.status).toBe(200);
  expect(asset.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
  expect(first.output()).toMatch(/→ ReserveAndCharge \(Parallel\) {2}2 branches/);
  // Both branches' lines, whatever the timing of their creation against the watch.
  expect(first.output()).toMatch(/ {2}\[0\] ✓ ReserveStock {2}\S+\n/);
  expect(first.output()).toMatch(/ {2}\[1\] ✓ ChargePayment {2}\S+\n/);
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

it("stops everything when its terminal is closed, and never runs two nats-servers on one store", async () => {
  const natsPort = env["JETFLOW_NATS_PORT"] as string;
  const first = start({ JETFLOW_EXAMPLE: "none" });
  await waitForOutput(first, /==> jetflow is running\. Press Ctrl-C to stop\./, 120_000);
  const scriptPid = first.child.pid as number;
  const natsPid = recordedPid("nats-server");

  // A second start.sh in the same folder refuses at once and names the running one.
  const refused = await startToEnd({ JETFLOW_EXAMPLE: "none" });
  expect(refused.code).toBe(1);
  expect(refused.output).toBe(
    `error: jetflow is already running from this folder (start.sh pid ${scriptPid}, nats-server pid ${natsPid} on port ${natsPort}); stop it with Ctrl-C in its terminal first\n`,
  );
  expect(alive(natsPid)).toBe(true);

  // Closing the terminal: nobody reads the output any more, and its process group gets SIGHUP.
  first.child.stdout?.destroy();
  first.child.stderr?.destroy();
  process.kill(-scriptPid, "SIGHUP");
  expect(await first.exit).toBe(129);
  running = undefined;
  expect([...seenPids].filter(alive)).toEqual([]);
  expect(readFileSync(join(clone, ".jetflow/logs/start.log"), "utf8")).toMatch(
    /the terminal was closed \(SIGHUP\)\n==> stopping\n==> stopped cleanly/,
  );

  // A start.sh killed outright leaves its processes behind: the next one will not share the store.
  const killed = start({ JETFLOW_EXAMPLE: "none" });
  await waitForOutput(killed, /==> jetflow is running\. Press Ctrl-C to stop\./, 120_000);
  const leftNats = recordedPid("nats-server");
  process.kill(killed.child.pid as number, "SIGKILL");
  await killed.exit;
  running = undefined;
  expect(alive(leftNats)).toBe(true);
  const again = await startToEnd({ JETFLOW_EXAMPLE: "none" });
  expect(again.code).toBe(1);
  expect(again.output).toBe(
    `error: a nats-server (pid ${leftNats}, port ${natsPort}) still uses the JetStream store .jetflow/nats; two servers must not share a store. It is left from an earlier start that did not stop cleanly: stop it with kill -INT ${leftNats} (and the services listed in .jetflow/run/pids), then start again\n`,
  );
  for (const pid of seenPids) if (alive(pid)) process.kill(pid, "SIGKILL");
  await waitFor(() => [...seenPids].every((pid) => !alive(pid)), { message: "the leftovers to exit" });
}, 400_000);

it("finishes its orderly stop when told to stop twice", async () => {
  const run = start({ JETFLOW_EXAMPLE: "none" });
  await waitForOutput(run, /==> jetflow is running\. Press Ctrl-C to stop\./, 120_000);
  const scriptPid = run.child.pid as number;
  process.kill(scriptPid, "SIGTERM");
  await waitFor(() => run.output().includes("==> stopping\n"), { timeoutMs: 30_000, intervalMs: 10 });
  // A supervisor repeating itself: the second SIGTERM arrives while the services are stopping.
  expect(alive(scriptPid)).toBe(true);
  process.kill(scriptPid, "SIGTERM");
  expect(await run.exit).toBe(0);
  running = undefined;
  expect(run.output()).toMatch(/==> stopping\n==> stopped cleanly/);
  expect([...seenPids].filter(alive)).toEqual([]);
}, 200_000);
