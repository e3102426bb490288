/**
 * What the Step Functions API remembers that jetflow does not: declared activities
 * (`jetflow_sfn_activities`) and deleted state machines (`jetflow_sfn_deleted`). jetflow itself
 * needs neither: its definitions name activities directly, and it keeps every definition version.
 */
import type { KV } from "@nats-io/kv";

/** An activity declared with CreateActivity. */
export interface DeclaredActivity {
  name: string;
  creationDate: Date;
}

/** Activity name → its KV key (names may hold characters KV keys cannot). */
function activityKey(name: string): string {
  return Buffer.from(name).toString("base64url");
}

/** Declared activities in their KV bucket. */
export class ActivityRegistry {
  constructor(private readonly kv: KV) {}

  /** Declares `name`; an existing declaration is kept (CreateActivity is idempotent). */
  async create(name: string, now: Date): Promise<DeclaredActivity> {
    const existing = await this.get(name);
    if (existing) return existing;
    const record = { name, creationDate: now };
    try {
      await this.kv.create(activityKey(name), JSON.stringify(record));
      return record;
    } catch (err) {
      // Declared by another request meanwhile: answer with that one.
      const raced = await this.get(name);
      if (raced) return raced;
      throw err;
    }
  }

  async get(name: string): Promise<DeclaredActivity | undefined> {
    const entry = await this.kv.get(activityKey(name));
    if (!entry || entry.operation !== "PUT") return undefined;
    const parsed = JSON.parse(entry.string()) as { name: string; creationDate: string };
    return { name: parsed.name, creationDate: new Date(parsed.creationDate) };
  }

  async delete(name: string): Promise<void> {
    await this.kv.delete(activityKey(name));
  }

  /** Every declared activity, sorted by name. */
  async list(): Promise<DeclaredActivity[]> {
    const keys: string[] = [];
    for await (const key of await this.kv.keys()) keys.push(key);
    const found = await Promise.all(keys.map((key) => this.get(Buffer.from(key, "base64url").toString())));
    return found
      .filter((a): a is DeclaredActivity => a !== undefined)
      .sort((a, b) => (a.name < b.name ? -1 : 1));
  }
}

/** Tombstones of state machines deleted through the Step Functions API. */
export class DeletedStateMachines {
  constructor(private readonly kv: KV) {}

  /** Marks workflow `name` deleted. */
  async delete(name: string, now: Date): Promise<void> {
    await this.kv.put(name, JSON.stringify({ deletionDate: now }));
  }

  /** Lifts the tombstone: CreateStateMachine of a deleted name creates it again. */
  async restore(name: string): Promise<void> {
    await this.kv.delete(name);
  }

  async isDeleted(name: string): Promise<boolean> {
    const entry = await this.kv.get(name);
    return entry !== null && entry.operation === "PUT";
  }
}
