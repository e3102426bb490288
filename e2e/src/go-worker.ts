import { execFile } from "node:child_process";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";

const execFileAsync = promisify(execFile);
const ROOT = resolve(__dirname, "../..");
/** The Go example worker's module (examples/go-worker). */
export const GO_EXAMPLE_WORKER = join(ROOT, "examples/go-worker");

/**
 * Builds the Go example worker into `binary` with `go build`, offline: its dependencies come from
 * vendor/, made from Debian's Go packages, and GOPROXY=off forbids a fetch. A lock file keeps
 * test files running at once from remaking the same vendor/ under each other's build.
 */
export async function buildGoExampleWorker(binary: string): Promise<void> {
  const env = { ...process.env, GOFLAGS: "-mod=vendor", GOPROXY: "off" };
  const script = 'bash "$1/sdk/go/scripts/vendor-debian.sh" "$2" && cd "$2" && go build -o "$3" .';
  await execFileAsync(
    "flock",
    [
      join(tmpdir(), "jetflow-go-worker-build.lock"),
      "bash",
      "-c",
      script,
      "build",
      ROOT,
      GO_EXAMPLE_WORKER,
      binary,
    ],
    { env, timeout: 180_000 },
  );
}
