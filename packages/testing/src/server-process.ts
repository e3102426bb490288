import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { open, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { NatsServerStartError } from "./errors";
import type { NatsServer } from "./types";
import { waitFor } from "./wait-for";

/** How to run one server; see {@link ServerProcess}. @internal */
export interface ServerProcessSpec {
  /** Path of the nats-server binary. */
  bin: string;
  /**
   * Arguments run before the binary, e.g. `["ip", "netns", "exec", "ns1"]` to start it in a network
   * namespace; the wrapper must exec the binary in place so that the child's pid is the server's.
   * Default none.
   */
  wrapper?: readonly string[];
  /** Variables set in the server's environment over the caller's own (`GOMEMLIMIT`). Default none. */
  env?: Readonly<Record<string, string>>;
  /** The address the client listener binds, used in `url`. Default `127.0.0.1`. */
  host?: string;
  /** `server_name`. */
  name: string;
  /** Temp dir holding the config, the log, the ports file and the store; removed by `dispose()`. */
  dir: string;
  /** JetStream `store_dir`, inside `dir`. */
  storeDir: string;
  /** The config text for a client port (-1 on first start, then the port the server picked). */
  render(port: number): string;
  /** Throws until the server is ready for the caller; polled after the ports file appears. */
  ready(server: ServerProcess): Promise<void>;
  /** Bound on one start, ports file and readiness together, in milliseconds. */
  startTimeoutMs: number;
  /** How long `stop()` waits after SIGTERM before sending SIGKILL, in milliseconds. */
  stopTimeoutMs: number;
}

interface Running {
  child: ChildProcess;
  exited: Promise<ExitStatus>;
}

interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
  error?: Error;
}

/** Lines of the log quoted in a start error. */
const tailLines = 20;

// Servers still running when the test process exits would outlive it; kill them on the way out.
const live = new Set<ChildProcess>();
let exitHookInstalled = false;

function track(child: ChildProcess): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once("exit", () => {
      for (const orphan of live) orphan.kill("SIGKILL");
    });
  }
  live.add(child);
}

/**
 * A nats-server child process that can be stopped, killed and restarted on the same port and store.
 * `start()` writes the config, spawns the binary with its output appended to `logFile`, waits for the
 * ports file (which gives the port), then polls `spec.ready` — all while watching for an early exit.
 *
 * @internal
 */
export class ServerProcess implements NatsServer {
  readonly name: string;
  readonly storeDir: string;
  readonly configFile: string;
  readonly logFile: string;
  private readonly spec: ServerProcessSpec;
  private current: Running | undefined;
  private knownPort: number | undefined;
  private knownMonitorUrl: string | undefined;
  private disposed = false;

  constructor(spec: ServerProcessSpec) {
    this.spec = spec;
    this.name = spec.name;
    this.storeDir = spec.storeDir;
    this.configFile = join(spec.dir, "nats-server.conf");
    this.logFile = join(spec.dir, "nats-server.log");
  }

  get port(): number {
    if (this.knownPort === undefined) throw new Error(`nats-server "${this.name}" has not started yet`);
    return this.knownPort;
  }

  get url(): string {
    return `nats://${this.spec.host ?? "127.0.0.1"}:${this.port}`;
  }

  get monitorUrl(): string {
    if (this.knownMonitorUrl === undefined) throw new Error(`nats-server "${this.name}" has not started yet`);
    return this.knownMonitorUrl;
  }

  get pid(): number | undefined {
    return this.current?.child.pid;
  }

  get running(): boolean {
    return this.current !== undefined;
  }

  /** Starts the server unless it is running and waits until it is ready. */
  async start(): Promise<void> {
    if (this.disposed) throw new Error(`nats-server "${this.name}" was disposed`);
    if (this.current !== undefined) return;
    await this.removePortsFiles();
    await writeFile(this.configFile, this.spec.render(this.knownPort ?? -1));
    const { child, exited } = await this.spawn();
    const aborter = new AbortController();
    void exited.then(() => aborter.abort());
    const deadline = Date.now() + this.spec.startTimeoutMs;
    try {
      const ports = await waitFor(() => readPortsFile(this.spec.dir, child.pid), {
        timeoutMs: this.spec.startTimeoutMs,
        signal: aborter.signal,
        message: `nats-server "${this.name}" to write its ports file`,
      });
      this.knownPort = ports.port;
      this.knownMonitorUrl = ports.monitorUrl;
      await waitFor(() => this.spec.ready(this).then(() => true), {
        timeoutMs: Math.max(deadline - Date.now(), 0),
        signal: aborter.signal,
        message: `nats-server "${this.name}" to be ready`,
      });
    } catch (err) {
      if (aborter.signal.aborted) {
        const status = await exited;
        throw new NatsServerStartError(
          `nats-server "${this.name}" ${describeExit(status)} before it was ready; log "${this.logFile}" ends with:\n${await readTail(this.logFile)}`,
          this.name,
          this.logFile,
          status.error === undefined ? undefined : { cause: status.error },
        );
      }
      await this.kill();
      throw new NatsServerStartError(
        `nats-server "${this.name}" was not ready within ${this.spec.startTimeoutMs} ms; log "${this.logFile}" ends with:\n${await readTail(this.logFile)}`,
        this.name,
        this.logFile,
        { cause: err },
      );
    }
  }

  async stop(): Promise<void> {
    const running = this.current;
    if (running === undefined) return;
    running.child.kill("SIGTERM");
    let timer: NodeJS.Timeout | undefined;
    const stopped = await Promise.race([
      running.exited.then(() => true),
      new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), this.spec.stopTimeoutMs))),
    ]);
    clearTimeout(timer);
    if (!stopped) await this.kill();
  }

  async kill(): Promise<void> {
    const running = this.current;
    if (running === undefined) return;
    running.child.kill("SIGKILL");
    await running.exited;
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await this.stop();
    await rm(this.spec.dir, { recursive: true, force: true });
  }

  private async spawn(): Promise<Running> {
    const log = await open(this.logFile, "a");
    let child: ChildProcess;
    try {
      // The child writes straight into the file: no pipe to drain, and the log is complete when it exits.
      const [command, ...args] = [...(this.spec.wrapper ?? []), this.spec.bin, "-c", this.configFile];
      child = spawn(command as string, args, {
        cwd: this.spec.dir,
        env: this.spec.env === undefined ? process.env : { ...process.env, ...this.spec.env },
        stdio: ["ignore", log.fd, log.fd],
      });
    } finally {
      await log.close();
    }
    const exited = new Promise<ExitStatus>((resolve) => {
      child.once("exit", (code, signal) => resolve({ code, signal }));
      child.once("error", (error) => resolve({ code: null, signal: null, error }));
    });
    const running = { child, exited };
    this.current = running;
    track(child);
    void exited.then(() => {
      live.delete(child);
      if (this.current === running) this.current = undefined;
    });
    return running;
  }

  /** A server killed with SIGKILL leaves its ports file behind; a fresh start must not read it. */
  private async removePortsFiles(): Promise<void> {
    const stale = (await readdir(this.spec.dir)).filter((file) => file.endsWith(".ports"));
    await Promise.all(stale.map((file) => rm(join(this.spec.dir, file), { force: true })));
  }
}

/**
 * Reads `<binary>_<pid>.ports`, which the server writes once it listens, e.g.
 * `{"nats":["nats://127.0.0.1:4222"],"monitoring":["http://127.0.0.1:8222"]}`; `undefined` until then.
 */
async function readPortsFile(
  dir: string,
  pid: number | undefined,
): Promise<{ port: number; monitorUrl: string } | undefined> {
  const file = (await readdir(dir)).find((name) => name.endsWith(`_${pid}.ports`));
  if (file === undefined) return undefined;
  // The file may be caught half-written; a JSON error just means "try again".
  const ports = JSON.parse(await readFile(join(dir, file), "utf8")) as {
    nats?: string[];
    monitoring?: string[];
  };
  const client = ports.nats?.[0];
  const monitor = ports.monitoring?.[0];
  if (client === undefined || monitor === undefined) {
    throw new Error(`ports file "${file}" lacks a client or a monitoring url`);
  }
  return { port: Number(new URL(client).port), monitorUrl: monitor };
}

function describeExit(status: ExitStatus): string {
  if (status.error !== undefined) return `could not be run (${status.error.message})`;
  if (status.signal !== null) return `was killed by ${status.signal}`;
  return `exited with code ${status.code}`;
}

async function readTail(file: string): Promise<string> {
  try {
    const lines = (await readFile(file, "utf8")).trimEnd().split("\n");
    return lines.slice(-tailLines).join("\n");
  } catch (err) {
    return `(log unreadable: ${err instanceof Error ? err.message : String(err)})`;
  }
}
