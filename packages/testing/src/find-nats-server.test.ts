import { chmod, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { NatsServerNotFoundError } from "./errors";
import { searchNatsServer } from "./find-nats-server";

const hint =
  'install it with "apt-get update && apt-get install nats-server" or set NATS_SERVER_BIN to its path';

let dir: string;
let onPath: string;
let fallback: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "jetflow-find-"));
  onPath = join(dir, "bin");
  fallback = join(dir, "fallback-nats-server");
  await writeFile(join(dir, "not-executable"), "");
  await writeFile(fallback, "#!/bin/sh\n");
  await chmod(fallback, 0o755);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function withBinaryOnPath(): Promise<string> {
  await mkdir(onPath, { recursive: true });
  const bin = join(onPath, "nats-server");
  await writeFile(bin, "#!/bin/sh\n");
  await chmod(bin, 0o755);
  return bin;
}

describe("searchNatsServer", () => {
  it("uses NATS_SERVER_BIN first", async () => {
    const bin = await withBinaryOnPath();
    await expect(searchNatsServer({ NATS_SERVER_BIN: fallback, PATH: onPath }, "/nonexistent")).resolves.toBe(
      fallback,
    );
    await expect(searchNatsServer({ PATH: onPath }, fallback)).resolves.toBe(bin);
  });

  it("falls back to the given path when PATH has no nats-server", async () => {
    await expect(searchNatsServer({ PATH: `/nonexistent:${dir}` }, fallback)).resolves.toBe(fallback);
  });

  it("rejects a NATS_SERVER_BIN that is not executable without looking elsewhere", async () => {
    const bin = join(dir, "not-executable");
    const err: unknown = await searchNatsServer({ NATS_SERVER_BIN: bin }, fallback).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NatsServerNotFoundError);
    expect((err as Error).message).toBe(
      `cannot find nats-server: "${bin}" (NATS_SERVER_BIN) is not an executable file; ${hint}`,
    );
  });

  it("says where it looked when there is no binary anywhere", async () => {
    const err: unknown = await searchNatsServer({ PATH: "/nonexistent" }, "/also/nonexistent").catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(NatsServerNotFoundError);
    expect((err as Error).message).toBe(
      `cannot find nats-server: not in NATS_SERVER_BIN, on PATH or at "/also/nonexistent"; ${hint}`,
    );
    expect((err as NatsServerNotFoundError).searched).toEqual([
      "/nonexistent/nats-server",
      "/also/nonexistent",
    ]);
  });
});
