#!/usr/bin/env node
/** The `jetflow` executable: runs the CLI with this process's streams, environment and signals. */
import { readFile } from "node:fs/promises";
import { createClient } from "@jetflow/client";
import { run } from "./cli";
import { ExitCode } from "./exit-codes";

const listeners = new Set<() => void>();
process.on("SIGINT", () => {
  if (listeners.size === 0) process.exit(ExitCode.Interrupted);
  for (const listener of [...listeners]) listener();
  // A second Ctrl-C while a command is still winding down ends it at once.
  listeners.clear();
});

async function readText(path: string): Promise<string> {
  if (path !== "-") return readFile(path, "utf8");
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

void run(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  readFile: readText,
  connect: createClient,
  onInterrupt(listener) {
    listeners.add(listener);
    return () => listeners.delete(listener);
  },
}).then((code) => {
  // Exit once the output is flushed: an open gRPC channel must not keep the process alive.
  process.stdout.write("", () => process.exit(code));
});
