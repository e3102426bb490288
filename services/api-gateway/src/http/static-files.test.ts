import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { serveConsole } from "./static-files";

let root: string;
let server: Server;
let base: string;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "jetflow-console-"));
  mkdirSync(join(root, "assets"));
  writeFileSync(join(root, "index.html"), "<!doctype html><title>console</title>");
  writeFileSync(join(root, "assets", "app-1234.js"), "console.log(1)");
  writeFileSync(join(tmpdir(), "jetflow-outside.txt"), "secret");
  server = createServer((req, res) => {
    serveConsole(root, new URL(req.url ?? "/", "http://x").pathname, res).then(
      (served) => {
        if (!served) res.writeHead(404).end("not the console's");
      },
      () => res.writeHead(500).end(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  rmSync(root, { recursive: true, force: true });
  rmSync(join(tmpdir(), "jetflow-outside.txt"), { force: true });
});

async function get(path: string) {
  const res = await fetch(base + path);
  return {
    status: res.status,
    type: res.headers.get("content-type"),
    cache: res.headers.get("cache-control"),
    body: await res.text(),
  };
}

describe("serving the built console", () => {
  it("serves files, caching hashed assets for good and index.html never", async () => {
    expect(await get("/assets/app-1234.js")).toEqual({
      status: 200,
      type: "text/javascript; charset=utf-8",
      cache: "public, max-age=31536000, immutable",
      body: "console.log(1)",
    });
    expect(await get("/")).toMatchObject({
      status: 200,
      type: "text/html; charset=utf-8",
      cache: "no-cache",
    });
  });

  it("answers every page path with index.html, but not a missing file or a path outside its folder", async () => {
    expect((await get("/executions/abc")).body).toContain("<title>console</title>");
    expect((await get("/assets/gone.js")).status).toBe(404);
    expect((await get("/%2e%2e/jetflow-outside.txt")).status).toBe(404);
    expect((await get("/..%2fjetflow-outside.txt")).status).toBe(404);
  });
});
