/**
 * Configuration of the Step Functions API endpoint, read with the gateway's other settings.
 */
import { readFileSync } from "node:fs";
import type { EnvReader } from "@jetflow/service-runtime";
import type { Identity } from "../auth";
import { parseAccessKeys } from "./sigv4";
import type { AccessKey } from "./sigv4";

/** Settings of the Step Functions endpoint. */
export interface SfnConfig {
  /** SFN_PORT: port of the Step Functions API; 0 picks a free port. Default: unset, no endpoint. */
  port: number | undefined;
  /** SFN_HOST: interface it binds. Default: the host of GRPC_ADDR. */
  host: string;
  /** SFN_REGION: the region in every ARN. Default us-east-1. */
  region: string;
  /** SFN_ACCOUNT: the 12-digit account id in every ARN. Default 000000000000. */
  account: string;
  /**
   * SFN_ACCESS_KEYS (or the file SFN_ACCESS_KEYS_FILE names): access key id → secret, from
   * comma-separated `accessKeyId:secret` pairs or a JSON array (see parseAccessKeys). When set,
   * every request must carry a valid SigV4 signature of one of them; unset, any signature (or
   * none) is accepted.
   */
  accessKeys: ReadonlyMap<string, string> | undefined;
  /**
   * The identity each access key stands for (its name, role and workflow prefixes), checked with
   * the gRPC API's role table. Set exactly when `accessKeys` is.
   */
  keyIdentities: ReadonlyMap<string, Identity> | undefined;
  /** SFN_ACTIVITY_POLL_MS: longest wait of GetActivityTask, 1000 to 60000. Default 60000 (AWS's). */
  activityPollMs: number;
}

/** Reads the SFN_* variables; problems are collected in `reader`. */
export function readSfnConfig(reader: EnvReader, defaultHost: string): SfnConfig {
  const portText = reader.optionalString("SFN_PORT");
  const port = portText === undefined ? undefined : reader.integer("SFN_PORT", 0, 0, 65535);
  const region = reader.string("SFN_REGION", "us-east-1");
  if (!/^[a-z]{2,}(-[a-z]+)+-\d{1,2}$/.test(region)) {
    reader.problems.push(`SFN_REGION must be a region name such as us-east-1, got "${region}"`);
  }
  const account = reader.string("SFN_ACCOUNT", "000000000000");
  if (!/^\d{12}$/.test(account)) {
    reader.problems.push(`SFN_ACCOUNT must be 12 digits, got "${account}"`);
  }
  const keys = readAccessKeys(reader);
  return {
    port,
    host: reader.string("SFN_HOST", defaultHost),
    region,
    account,
    accessKeys: keys && new Map([...keys].map(([id, key]) => [id, key.secret])),
    keyIdentities: keys && new Map([...keys].map(([id, key]) => [id, identityOf(key)])),
    activityPollMs: reader.integer("SFN_ACTIVITY_POLL_MS", 60_000, 1_000, 60_000),
  };
}

/** The identity an access key stands for, as the gRPC API's authenticator makes them. */
function identityOf(key: AccessKey): Identity {
  return { name: key.name, role: key.role, workflowPrefixes: key.workflowPrefixes, via: "sigv4" };
}

/** SFN_ACCESS_KEYS or SFN_ACCESS_KEYS_FILE (exclusive); undefined when neither is set. */
function readAccessKeys(reader: EnvReader): Map<string, AccessKey> | undefined {
  const inline = reader.optionalString("SFN_ACCESS_KEYS");
  const file = reader.optionalString("SFN_ACCESS_KEYS_FILE");
  if (inline !== undefined && file !== undefined) {
    reader.problems.push("SFN_ACCESS_KEYS and SFN_ACCESS_KEYS_FILE are exclusive: set one");
    return undefined;
  }
  let text = inline;
  const variable = file === undefined ? "SFN_ACCESS_KEYS" : "SFN_ACCESS_KEYS_FILE";
  if (file !== undefined) {
    try {
      text = readFileSync(file, "utf8");
    } catch (err) {
      reader.problems.push(`SFN_ACCESS_KEYS_FILE: cannot read "${file}": ${(err as Error).message}`);
      return undefined;
    }
  }
  if (text === undefined) return undefined;
  const parsed = parseAccessKeys(text, variable);
  if (typeof parsed === "string") reader.problems.push(parsed);
  else if (parsed.size === 0) reader.problems.push(`${variable} must name at least one access key`);
  else return parsed;
  return undefined;
}
