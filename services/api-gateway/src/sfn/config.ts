/**
 * Configuration of the Step Functions API endpoint, read with the gateway's other settings.
 */
import type { EnvReader } from "@jetflow/service-runtime";
import { parseAccessKeys } from "./sigv4";

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
   * SFN_ACCESS_KEYS: comma-separated `accessKeyId:secret` pairs. When set, every request must carry
   * a valid SigV4 signature of one of them; unset, any signature (or none) is accepted.
   */
  accessKeys: ReadonlyMap<string, string> | undefined;
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
  const keysText = reader.optionalString("SFN_ACCESS_KEYS");
  let accessKeys: Map<string, string> | undefined;
  if (keysText !== undefined) {
    const parsed = parseAccessKeys(keysText);
    if (typeof parsed === "string") reader.problems.push(parsed);
    else if (parsed.size === 0) reader.problems.push("SFN_ACCESS_KEYS must name at least one id:secret pair");
    else accessKeys = parsed;
  }
  return {
    port,
    host: reader.string("SFN_HOST", defaultHost),
    region,
    account,
    accessKeys,
    activityPollMs: reader.integer("SFN_ACTIVITY_POLL_MS", 60_000, 1_000, 60_000),
  };
}
