/**
 * Workflow definitions in jetflow_defs. Versions are immutable and numbered from 1; registering
 * content identical to an existing version returns that version. Keys:
 * `<name>.<version>` → WorkflowDefinitionRecord, `<name>.latest` → latest version (decimal text),
 * `<name>.sha256.<hex>` → the version holding that content.
 */
import { createHash } from "node:crypto";
import { formatProblems, loadDefinition } from "@jetflow/asl";
import type { StateMachine } from "@jetflow/asl";
import { WorkflowDefinitionRecord, decode, encode } from "@jetflow/contracts";
import type { KV } from "@nats-io/kv";
import { ApiError } from "./errors";

const NAME = /^[A-Za-z0-9_-]{1,80}$/;
const MAX_VERSION_RACE_RETRIES = 20;

/** A registered version with its parsed machine. */
export interface Workflow {
  record: WorkflowDefinitionRecord;
  machine: StateMachine;
}

/** Throws INVALID_ARGUMENT unless `name` can name a workflow. */
export function checkWorkflowName(name: string): void {
  if (!NAME.test(name)) {
    throw ApiError.invalid(
      `invalid workflow name "${name.slice(0, 100)}": use 1 to 80 letters, digits, "-" or "_"`,
    );
  }
}

export class WorkflowStore {
  private readonly cache = new Map<string, Workflow>();

  constructor(
    private readonly kv: KV,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /**
   * Validates and stores a definition. Identical content (after parsing, so JSON and YAML of the
   * same machine are identical) returns the existing version with `created: false`.
   * @throws ApiError INVALID_ARGUMENT listing every validation problem with its path
   */
  async register(
    name: string,
    definition: string,
    description: string,
  ): Promise<{ version: number; created: boolean }> {
    checkWorkflowName(name);
    const loaded = loadDefinition(definition);
    if (!loaded.ok) {
      throw ApiError.invalid(`invalid workflow definition:\n${formatProblems(loaded.problems)}`);
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

  /** Every workflow's latest version, by name. */
  async listLatest(): Promise<WorkflowDefinitionRecord[]> {
    const names: string[] = [];
    for await (const key of await this.kv.keys("*.latest")) names.push(key.slice(0, -".latest".length));
    names.sort();
    const records: WorkflowDefinitionRecord[] = [];
    for (const name of names) records.push((await this.get(name)).record);
    return records;
  }

  private async latestVersion(name: string): Promise<number> {
    const entry = await this.kv.get(`${name}.latest`);
    return entry?.operation === "PUT" ? Number(entry.string()) : 0;
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
