/**
 * Workflow definitions by name and version, read from jetflow_defs and cached forever: a version
 * is immutable, so a cached definition is never stale.
 */
import { loadDefinition } from "@jetflow/asl";
import type { StateMachine } from "@jetflow/asl";
import { WorkflowDefinitionRecord, decode } from "@jetflow/contracts";
import type { KV } from "@nats-io/kv";

/** Thrown when a workflow version is missing or its stored definition is unusable. */
export class DefinitionError extends Error {
  override readonly name = "DefinitionError";
  constructor(
    readonly workflowName: string,
    readonly version: number,
    reason: string,
  ) {
    super(`workflow "${workflowName}" version ${version}: ${reason}`);
  }
}

/** Key of one workflow version in jetflow_defs. */
export function definitionKey(name: string, version: number): string {
  return `${name}.${version}`;
}

export class DefinitionCache {
  private readonly machines = new Map<string, Promise<StateMachine>>();

  constructor(private readonly kv: () => Promise<KV>) {}

  /**
   * The parsed state machine of `name` at `version`.
   * @throws DefinitionError when the version does not exist or does not validate
   */
  get(name: string, version: number): Promise<StateMachine> {
    const key = definitionKey(name, version);
    let machine = this.machines.get(key);
    if (!machine) {
      machine = this.read(name, version);
      this.machines.set(key, machine);
      // A failed read is not cached: the version may be stored a moment later.
      machine.catch(() => this.machines.delete(key));
    }
    return machine;
  }

  private async read(name: string, version: number): Promise<StateMachine> {
    const kv = await this.kv();
    const entry = await kv.get(definitionKey(name, version));
    if (!entry || entry.operation !== "PUT") throw new DefinitionError(name, version, "not found");
    const record = decode(WorkflowDefinitionRecord, "WorkflowDefinitionRecord", entry.value, entry.key);
    const loaded = loadDefinition(record.definition);
    if (!loaded.ok) {
      throw new DefinitionError(
        name,
        version,
        `stored definition is invalid: ${loaded.problems[0]?.message ?? "?"}`,
      );
    }
    return loaded.machine;
  }
}
