/**
 * Workflow definitions in jetflow_defs. Versions are immutable and numbered from 1; registering
 * content identical to an existing version returns that version. Keys:
 * `<name>.<version>` → WorkflowDefinitionRecord, `<name>.latest` → latest version (decimal text),
 * `<name>.sha256.<hex>` → the version holding that content.
 */
import { createHash } from "node:crypto";
import { formatProblems, loadDefinition } from "@jetflow/asl";
import type { StateMachine } from "@jetflow/asl";
import type { DefinitionProblem } from "@jetflow/contracts";
import { WorkflowDefinitionRecord, decode, encode } from "@jetflow/contracts";
import { status } from "@grpc/grpc-js";
import type { KV, KvEntry } from "@nats-io/kv";
import { CoalescedReads } from "./coalesced-reads";
import { ApiError, RequestProblems } from "./errors";

const NAME = /^[A-Za-z0-9_-]{1,80}$/;
const MAX_VERSION_RACE_RETRIES = 20;

/** A registered version with its parsed machine. */
export interface Workflow {
  record: WorkflowDefinitionRecord;
  machine: StateMachine;
}

/** What a workflow name may be, as said in error messages. */
export const WORKFLOW_NAME_RULE = 'use 1 to 80 letters, digits, "-" or "_"';

/** True when `name` can name a workflow. */
export function isWorkflowName(name: string): boolean {
  return NAME.test(name);
}

/** Throws INVALID_ARGUMENT unless `name` can name a workflow. */
export function checkWorkflowName(name: string): void {
  if (!NAME.test(name)) {
    throw ApiError.invalid(`invalid workflow name "${name.slice(0, 100)}": ${WORKFLOW_NAME_RULE}`);
  }
}

/** Longest description kept with a workflow version, in characters. */
export const MAX_DESCRIPTION_LENGTH = 1024;

export class WorkflowStore {
  private readonly cache = new Map<string, Workflow>();
  /** `<name>.latest` reads, shared by the starts of a burst (never older than the start). */
  private readonly latestReads = new CoalescedReads<string, number>(async (name) => {
    const entry = await this.kv.get(`${name}.latest`);
    return entry?.operation === "PUT" ? Number(entry.string()) : 0;
  });

  constructor(
    private readonly kv: KV,
    /** Largest definition accepted, in bytes: it must fit a KV value with its record. */
    private readonly maxDefinitionBytes: number,
    private readonly now: () => Date = () => new Date(),
    /**
     * Runs before a valid definition is stored (also when identical content exists): the gateway
     * creates the task consumers of the machine's activities here, so that they exist by the time
     * an execution can start.
     */
    private readonly beforeStore: (machine: StateMachine) => Promise<void> = () => Promise.resolve(),
  ) {}

  /**
   * Every problem of a definition, with line and column where the text has them, as
   * RegisterWorkflow would find them; nothing is stored.
   * @throws ApiError RESOURCE_EXHAUSTED when the text is over the size limit
   */
  validate(definition: string): { valid: boolean; problems: DefinitionProblem[] } {
    const bytes = Buffer.byteLength(definition);
    if (bytes > this.maxDefinitionBytes) {
      throw ApiError.tooLarge(
        `definition is ${bytes} bytes, more than the limit of ${this.maxDefinitionBytes}`,
      );
    }
    if (definition.trim() === "") {
      return {
        valid: false,
        problems: [{ path: "", message: "the definition is empty", line: 0, column: 0 }],
      };
    }
    const loaded = loadDefinition(definition);
    if (loaded.ok) return { valid: true, problems: [] };
    return {
      valid: false,
      problems: loaded.problems.map((p) => ({
        path: p.path,
        message: p.message,
        line: p.line ?? 0,
        column: p.column ?? 0,
      })),
    };
  }

  /**
   * Validates and stores a definition. Identical content (after parsing, so JSON and YAML of the
   * same machine are identical) returns the existing version with `created: false`.
   * @throws ApiError INVALID_ARGUMENT listing every validation problem with its path
   */
  async register(
    name: string,
    definition: string,
    description: string,
    registeredBy?: string,
  ): Promise<{ version: number; created: boolean }> {
    const bytes = Buffer.byteLength(definition);
    if (bytes > this.maxDefinitionBytes) {
      throw ApiError.tooLarge(
        `definition is ${bytes} bytes, more than the limit of ${this.maxDefinitionBytes}`,
      );
    }
    const problems = new RequestProblems();
    if (name === "") problems.add("name", "is required");
    else if (!isWorkflowName(name))
      problems.add("name", `invalid workflow name "${name.slice(0, 100)}": ${WORKFLOW_NAME_RULE}`);
    if (description.length > MAX_DESCRIPTION_LENGTH) {
      problems.add("description", `must be at most ${MAX_DESCRIPTION_LENGTH} characters`);
    }
    if (definition.trim() === "") problems.add("definition", "is required");
    const loaded = problems.empty || definition.trim() !== "" ? loadDefinition(definition) : undefined;
    if (loaded !== undefined && !loaded.ok) {
      const asl = formatProblems(loaded.problems);
      // Only the definition is wrong: say so in the header, one problem (with its path) per line.
      if (problems.empty) throw ApiError.invalid(`invalid workflow definition:\n${asl}`);
      for (const line of asl.split("\n")) problems.add("definition", line);
    }
    problems.check();
    if (loaded === undefined || !loaded.ok)
      throw new Error("unreachable: a definition without problems did not load");
    try {
      await this.beforeStore(loaded.machine);
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      throw ApiError.unavailable(`cannot prepare the task consumers of workflow "${name}": ${why}`);
    }
    const sha256 = createHash("sha256").update(canonicalJson(loaded.machine)).digest("hex");
    const existing = await this.kv.get(`${name}.sha256.${sha256}`);
    if (existing?.operation === "PUT") return { version: Number(existing.string()), created: false };

    for (let attempt = 0; attempt < MAX_VERSION_RACE_RETRIES; attempt++) {
      const version = (await this.latestVersion(name)) + 1;
      const record: WorkflowDefinitionRecord = {
        name,
        version,
        definition,
        description,
        createdTime: this.now(),
        sha256,
        registeredBy,
      };
      try {
        await this.kv.create(`${name}.${version}`, encode(WorkflowDefinitionRecord, record));
      } catch {
        continue; // another registration took this version number: try the next
      }
      await this.kv.put(`${name}.sha256.${sha256}`, String(version));
      await this.advanceLatest(name, version);
      return { version, created: true };
    }
    throw ApiError.unavailable(`too many concurrent registrations of "${name}"; try again`);
  }

  /**
   * A version of a workflow; version 0 means the latest.
   * @throws ApiError NOT_FOUND when the workflow or the version does not exist
   */
  async get(name: string, version = 0): Promise<Workflow> {
    checkWorkflowName(name);
    const resolved = version > 0 ? version : await this.latestVersion(name);
    if (resolved === 0) throw ApiError.notFound(`workflow "${name}" does not exist`);
    const key = `${name}.${resolved}`;
    const cached = this.cache.get(key);
    if (cached) return cached;
    const entry = await this.kv.get(key);
    if (!entry || entry.operation !== "PUT") {
      throw ApiError.notFound(`workflow "${name}" has no version ${resolved}`);
    }
    const record = decode(WorkflowDefinitionRecord, "WorkflowDefinitionRecord", entry.value, key);
    const loaded = loadDefinition(record.definition);
    if (!loaded.ok) throw new Error(`stored definition ${key} no longer validates`);
    const workflow = { record, machine: loaded.machine };
    this.cache.set(key, workflow);
    return workflow;
  }

  /**
   * The latest version of each workflow in `names`, in that order (a page of ListWorkflows).
   * A name whose latest version disappeared meanwhile is left out.
   */
  async latestOf(names: readonly string[]): Promise<WorkflowDefinitionRecord[]> {
    const records = await Promise.all(
      names.map((name) =>
        this.get(name).then(
          (w) => w.record,
          (err: unknown) => {
            if (err instanceof ApiError && err.code === status.NOT_FOUND) return undefined;
            throw err;
          },
        ),
      ),
    );
    return records.filter((r): r is WorkflowDefinitionRecord => r !== undefined);
  }

  private latestVersion(name: string): Promise<number> {
    return this.latestReads.get(name);
  }

  /** Moves `<name>.latest` forward to `version`, never backwards, under concurrent writers. */
  private async advanceLatest(name: string, version: number): Promise<void> {
    for (;;) {
      const entry = await this.kv.get(`${name}.latest`);
      try {
        if (!entry || entry.operation !== "PUT") {
          await this.kv.create(`${name}.latest`, String(version));
        } else {
          if (Number(entry.string()) >= version) return;
          await this.kv.update(`${name}.latest`, String(version), entry.revision);
        }
        return;
      } catch {
        // Lost a compare-and-set race: read again.
      }
    }
  }
}

/** JSON with object keys sorted, so equal machines hash equally whatever their source text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`);
    return `{${entries.join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

const LATEST_SUFFIX = ".latest";

/**
 * The names of the registered workflows, sorted, fed by a headers-only watch of jetflow_defs
 * (a `<name>.latest` key exists once a workflow has a version). Pages walk from the last name
 * of the previous page.
 */
export class WorkflowNames {
  private readonly names: string[] = [];

  get size(): number {
    return this.names.length;
  }

  /** Applies one KV entry of jetflow_defs; keys other than `<name>.latest` are ignored. */
  apply(entry: Pick<KvEntry, "key" | "operation">): void {
    if (!entry.key.endsWith(LATEST_SUFFIX)) return;
    const name = entry.key.slice(0, -LATEST_SUFFIX.length);
    const at = this.position(name);
    const present = this.names[at] === name;
    if (entry.operation === "PUT" && !present) this.names.splice(at, 0, name);
    if (entry.operation !== "PUT" && present) this.names.splice(at, 1);
  }

  /** Up to `size` names after `after` ("" for the first page), and whether more follow. */
  page(after: string, size: number): { names: string[]; more: boolean } {
    let start = after === "" ? 0 : this.position(after);
    if (this.names[start] === after) start += 1;
    const names = this.names.slice(start, start + size);
    return { names, more: start + size < this.names.length };
  }

  /** Index of the first name not below `name`. */
  private position(name: string): number {
    let lo = 0;
    let hi = this.names.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.names[mid] as string) < name) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
