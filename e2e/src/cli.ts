/** The jetflow command as a test runs it: the built CLI in a child process, against one engine. */
import { spawn } from "node:child_process";
import { resolve } from "node:path";

/** The built CLI's entry point. */
export const JETFLOW_CLI = resolve(__dirname, "../../packages/cli/dist/main.js");

/** What one run of the CLI printed and how it exited. */
export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `jetflow <args>` against the API at `address`, with only PATH and JETFLOW_ADDR in its
 * environment (no FORCE_COLOR or JETFLOW_ADDR leaking in from outside), and resolves when it exits.
 */
export function runJetflow(address: string, ...args: string[]): Promise<CliRun> {
  return new Promise((done, reject) => {
    const child = spawn(process.execPath, [JETFLOW_CLI, ...args], {
      env: { PATH: process.env.PATH, JETFLOW_ADDR: address },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.once("error", reject);
    child.once("close", (code) => done({ code, stdout, stderr }));
  });
}
