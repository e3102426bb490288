import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { promisify } from "node:util";

const run = promisify(execFile);

/** Every name this module creates starts with this, followed by the owning process id. */
const namePrefix = "jfp";
/** Addresses come from 10.213.<n>.0/24, a range used only inside the namespaces made here. */
const subnetBase = "10.213";

let networksMade = 0;

/** Thrown when the network namespaces cannot be made, with what the `ip` command said. */
export class NetnsUnavailableError extends Error {
  override readonly name = "NetnsUnavailableError";
}

/** Options of {@link createNetnsNetwork}. */
export interface CreateNetnsNetworkOptions {
  /** Number of namespaces (one per node), 1 to 9. */
  nodes: number;
}

/**
 * A private network made of Linux network namespaces, one per node, each joined by a veth pair to a
 * bridge in the root namespace, which has an address on it too (the "host": the test, the services).
 * Faults are made on it and undone by `heal()`; `dispose()` removes everything it made.
 */
export interface NetnsNetwork {
  /** The prefix of every name made for this network, e.g. `jfp1234`. */
  readonly prefix: string;
  /** The root namespace's address on the bridge, e.g. `10.213.7.1`. */
  readonly hostAddress: string;
  /** The namespace of node `i`. */
  namespace(i: number): string;
  /** The address of node `i` on the bridge, e.g. `10.213.7.10`. */
  address(i: number): string;
  /** Cuts node `i` off from everyone (its bridge port goes down): packets to and from it vanish. */
  isolate(i: number): Promise<void>;
  /** Nodes `a` and `b` can no longer reach each other (blackhole routes both ways); both still reach the rest. */
  cutLink(a: number, b: number): Promise<void>;
  /** The host (the root namespace: the test, the services) and node `i` can no longer reach each other. */
  cutFromHost(i: number): Promise<void>;
  /** Undoes every fault made since the last heal. */
  heal(): Promise<void>;
  /** Removes the namespaces (their veths go with them), the bridge and the routes. Safe to call twice. */
  dispose(): Promise<void>;
}

/** Runs `ip` with `args`; throws with its stderr on failure. */
async function ip(...args: string[]): Promise<string> {
  try {
    return (await run("ip", args)).stdout;
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr?.trim();
    throw new Error(`"ip ${args.join(" ")}" failed: ${stderr || (err as Error).message}`, { cause: err });
  }
}

/** Runs `ip` and ignores failure: for clean-up of state that may be partly gone. */
async function ipQuiet(...args: string[]): Promise<void> {
  await ip(...args).catch(() => undefined);
}

/**
 * Creates the namespaces, veths and bridge of {@link NetnsNetwork} for `nodes` nodes. Needs root and the
 * `ip` command (iproute2). Leftovers of earlier runs whose process is gone are removed first.
 *
 * @throws {NetnsUnavailableError} when namespaces cannot be made here (not root, no `ip`, no netns support)
 */
export async function createNetnsNetwork(options: CreateNetnsNetworkOptions): Promise<NetnsNetwork> {
  const { nodes } = options;
  if (!Number.isInteger(nodes) || nodes < 1 || nodes > 9) {
    throw new RangeError(`a netns network has 1 to 9 nodes, got ${nodes}`);
  }
  await removeLeftoverNetworks();
  // A letter per network made by this process, so that two test files in one jest worker never collide.
  const serial = String.fromCharCode(97 + (networksMade++ % 26));
  const network = new Network(`${namePrefix}${process.pid}${serial}`, nodes, await freeSubnet());
  try {
    await network.create();
  } catch (err) {
    await network.dispose();
    throw new NetnsUnavailableError(
      `cannot make network namespaces for a partition test (root and iproute2 are needed): ${(err as Error).message}`,
      { cause: err },
    );
  }
  return network;
}

/**
 * Removes the namespaces, bridges, processes and root routes left by runs whose process no longer
 * exists (a killed test run cannot clean up after itself). Returns the prefixes it removed.
 */
export async function removeLeftoverNetworks(): Promise<string[]> {
  const owners = new Set<string>();
  const namespaces = (await ip("netns", "list").catch(() => ""))
    .split("\n")
    .map((line) => line.split(" ")[0] ?? "")
    .filter((name) => name.startsWith(namePrefix));
  const bridges = (await ip("-o", "link", "show", "type", "bridge").catch(() => ""))
    .split("\n")
    .map((line) => /^\d+: ([^:@]+)/.exec(line)?.[1] ?? "")
    .filter((name) => name.startsWith(namePrefix));
  for (const name of [...namespaces, ...bridges]) {
    const owner = /^jfp(\d+)/.exec(name)?.[1];
    if (owner !== undefined && !(await isNodeProcess(Number(owner)))) owners.add(owner);
  }
  for (const owner of owners) {
    const prefix = `${namePrefix}${owner}`;
    for (const bridge of bridges.filter((name) => new RegExp(`^${prefix}[a-z]br$`).test(name))) {
      const subnet = await bridgeSubnet(bridge);
      if (subnet !== undefined) await removeBlackholes(subnet);
      await ipQuiet("link", "del", bridge);
    }
    for (const ns of namespaces.filter((name) => new RegExp(`^${prefix}[a-z]-`).test(name))) {
      await killNamespaceProcesses(ns);
      await ipQuiet("netns", "del", ns);
    }
  }
  return [...owners].map((owner) => `${namePrefix}${owner}`);
}

async function isNodeProcess(pid: number): Promise<boolean> {
  try {
    return (await readFile(`/proc/${pid}/cmdline`, "utf8")).includes("node");
  } catch {
    return false;
  }
}

/** The `a.b.c.` prefix of the bridge's address, or undefined when it has none (or is gone). */
async function bridgeSubnet(bridge: string): Promise<string | undefined> {
  const out = await ip("-o", "-4", "addr", "show", "dev", bridge).catch(() => "");
  const match = /inet (\d+\.\d+\.\d+)\.\d+\//.exec(out);
  return match === null ? undefined : `${match[1]}.`;
}

async function removeBlackholes(subnet: string): Promise<void> {
  const routes = (await ip("-4", "route", "show", "type", "blackhole").catch(() => "")).split("\n");
  for (const route of routes) {
    const target = /^blackhole (\S+)/.exec(route)?.[1];
    if (target?.startsWith(subnet) === true) await ipQuiet("route", "del", "blackhole", target);
  }
}

async function killNamespaceProcesses(ns: string): Promise<void> {
  const pids = (await ip("netns", "pids", ns).catch(() => "")).split(/\s+/).filter(Boolean);
  for (const pid of pids) {
    try {
      process.kill(Number(pid), "SIGKILL");
    } catch {
      // already gone
    }
  }
}

/** The first 10.213.<n>.0/24 that no route of the root namespace uses yet. */
async function freeSubnet(): Promise<number> {
  const routes = await ip("-4", "route", "show").catch(() => "");
  for (let n = 0; n < 256; n++) {
    if (!routes.includes(`${subnetBase}.${n}.`)) return n;
  }
  throw new NetnsUnavailableError(`every subnet of ${subnetBase}.0.0/16 is in use`);
}

/** A fault and how to undo it. */
interface Fault {
  undo(): Promise<void>;
}

class Network implements NetnsNetwork {
  readonly prefix: string;
  readonly hostAddress: string;
  private readonly nodes: number;
  private readonly subnet: string;
  private readonly bridge: string;
  private faults: Fault[] = [];
  private disposed = false;

  constructor(prefix: string, nodes: number, subnet: number) {
    this.prefix = prefix;
    this.nodes = nodes;
    this.subnet = `${subnetBase}.${subnet}.`;
    this.bridge = `${prefix}br`;
    this.hostAddress = `${this.subnet}1`;
  }

  namespace(i: number): string {
    return `${this.prefix}-n${this.checked(i)}`;
  }

  address(i: number): string {
    return `${this.subnet}${10 + this.checked(i)}`;
  }

  async create(): Promise<void> {
    await ip("link", "add", this.bridge, "type", "bridge");
    await ip("addr", "add", `${this.hostAddress}/24`, "dev", this.bridge);
    await ip("link", "set", this.bridge, "up");
    for (let i = 0; i < this.nodes; i++) {
      const ns = this.namespace(i);
      await ip("netns", "add", ns);
      await ip("link", "add", this.hostVeth(i), "type", "veth", "peer", "name", "eth0", "netns", ns);
      await ip("link", "set", this.hostVeth(i), "master", this.bridge, "up");
      await ip("-n", ns, "addr", "add", `${this.address(i)}/24`, "dev", "eth0");
      await ip("-n", ns, "link", "set", "eth0", "up");
      await ip("-n", ns, "link", "set", "lo", "up");
    }
  }

  async isolate(i: number): Promise<void> {
    const veth = this.hostVeth(i);
    await ip("link", "set", veth, "down");
    this.faults.push({ undo: () => ip("link", "set", veth, "up").then(() => undefined) });
  }

  async cutLink(a: number, b: number): Promise<void> {
    if (this.checked(a) === this.checked(b)) throw new RangeError(`cannot cut node ${a} from itself`);
    await this.blackhole(this.namespace(a), this.address(b));
    await this.blackhole(this.namespace(b), this.address(a));
  }

  async cutFromHost(i: number): Promise<void> {
    await this.blackhole(this.namespace(i), this.hostAddress);
    await this.blackhole(undefined, this.address(i));
  }

  async heal(): Promise<void> {
    const faults = this.faults;
    this.faults = [];
    for (const fault of faults.reverse()) await fault.undo();
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    // Each step tolerates what is already gone: a failed create or an earlier dispose left part of it.
    for (const fault of this.faults) await fault.undo().catch(() => undefined);
    this.faults = [];
    await removeBlackholes(this.subnet);
    for (let i = 0; i < this.nodes; i++) {
      await killNamespaceProcesses(this.namespace(i));
      // Deleting our end removes the pair now; a namespace's own end would otherwise live on until
      // the kernel frees the namespace, which a process still exiting can delay.
      await ipQuiet("link", "del", this.hostVeth(i));
      await ipQuiet("netns", "del", this.namespace(i));
    }
    await ipQuiet("link", "del", this.bridge);
  }

  /** Drops every packet from `ns` (the root namespace when undefined) to `target`, silently for the peer. */
  private async blackhole(ns: string | undefined, target: string): Promise<void> {
    const inNs = ns === undefined ? [] : ["-n", ns];
    await ip(...inNs, "route", "add", "blackhole", `${target}/32`);
    this.faults.push({
      undo: () => ip(...inNs, "route", "del", "blackhole", `${target}/32`).then(() => undefined),
    });
  }

  /** The root-side end of node `i`'s veth (names are at most 15 characters). */
  private hostVeth(i: number): string {
    return `${this.prefix}n${i}`;
  }

  private checked(i: number): number {
    if (!Number.isInteger(i) || i < 0 || i >= this.nodes) {
      throw new RangeError(`no node ${i} in netns network "${this.prefix}" of ${this.nodes} nodes`);
    }
    return i;
  }
}
