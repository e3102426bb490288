/**
 * The standard gRPC health service and server reflection, so grpcurl and GUI clients work
 * without the .proto files. Reflection describes what it is given as protobuf descriptors, which
 * come from the .proto files themselves (read once at start with proto-loader): the gateway finds
 * them in GATEWAY_PROTO_DIR, else in the `proto/` directory published with @jetflow/contracts,
 * else in the repository's `proto/` (a source checkout).
 */
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import type { Server } from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import { ReflectionService } from "@grpc/reflection";
import { HealthImplementation, protoPath as healthProtoPath } from "grpc-health-check";

/** The service name the health service reports on, besides "" (the whole server). */
export const WORKFLOW_SERVICE = "jetflow.v1.WorkflowService";

const SERVICE_FILE = join("jetflow", "v1", "workflow_service.proto");

/** Thrown when the .proto files cannot be found or read. */
export class ProtoFilesError extends Error {
  override readonly name = "ProtoFilesError";
}

/**
 * The directory holding `jetflow/v1/workflow_service.proto`: `configured` when given, else the
 * first of the contracts package's `proto/` and the repository's `proto/` that has it.
 * @throws ProtoFilesError naming the places looked at
 */
export function findProtoDir(configured: string | undefined): string {
  const contractsRoot = resolve(dirname(require.resolve("@jetflow/contracts")), "..");
  const candidates =
    configured !== undefined
      ? [resolve(configured)]
      : [join(contractsRoot, "proto"), resolve(contractsRoot, "../../proto")];
  const found = candidates.find((dir) => existsSync(join(dir, SERVICE_FILE)));
  if (found === undefined) {
    throw new ProtoFilesError(
      `cannot find ${SERVICE_FILE} in ${candidates.map((c) => `"${c}"`).join(" or ")}: set GATEWAY_PROTO_DIR to the directory holding jetflow/v1/*.proto`,
    );
  }
  return found;
}

/** Adds server reflection for the WorkflowService and the health service to `server`. */
export function addReflection(server: Server, protoDir: string): void {
  let definition;
  try {
    definition = loadSync([SERVICE_FILE, healthProtoPath], {
      includeDirs: [protoDir],
      keepCase: true,
    });
  } catch (err) {
    throw new ProtoFilesError(`cannot read the .proto files in "${protoDir}"`, { cause: err });
  }
  new ReflectionService(definition).addToServer(server);
}

/** The health service; `setServing` switches both names between SERVING and NOT_SERVING. */
export function addHealth(server: Server): { setServing(serving: boolean): void } {
  const health = new HealthImplementation({ "": "NOT_SERVING", [WORKFLOW_SERVICE]: "NOT_SERVING" });
  health.addToServer(server);
  return {
    setServing(serving) {
      const value = serving ? "SERVING" : "NOT_SERVING";
      health.setStatus("", value);
      health.setStatus(WORKFLOW_SERVICE, value);
    },
  };
}
