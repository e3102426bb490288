/** A promise-returning wrapper around the generated gRPC client, for tests. */
import { Metadata, credentials } from "@grpc/grpc-js";
import type { ServiceError } from "@grpc/grpc-js";
import { WorkflowServiceClient } from "@jetflow/contracts";

type Unary<Req, Res> = (
  request: Req,
  metadata: Metadata,
  options: { deadline: Date },
  callback: (error: ServiceError | null, response: Res) => void,
) => unknown;

type Promisified<C> = {
  [K in keyof C]: C[K] extends Unary<infer Req, infer Res> ? (request: Req) => Promise<Res> : never;
};

const UNARY = [
  "registerWorkflow",
  "getWorkflow",
  "listWorkflows",
  "startExecution",
  "describeExecution",
  "listExecutions",
  "getExecutionHistory",
  "stopExecution",
  "redriveExecution",
  "createSchedule",
  "describeSchedule",
  "listSchedules",
  "pauseSchedule",
  "resumeSchedule",
  "deleteSchedule",
  "sendTaskSuccess",
  "sendTaskFailure",
  "sendTaskHeartbeat",
  "getEngineStats",
  "listDeadLetters",
  "getDeadLetter",
  "replayDeadLetter",
  "discardDeadLetter",
  "startBulkStop",
  "describeBulkOperation",
  "listBulkOperations",
] as const;

export type TestClient = Pick<Promisified<WorkflowServiceClient>, (typeof UNARY)[number]> & {
  raw: WorkflowServiceClient;
  close(): void;
};

/** Connects to the api-gateway at `address` (host:port); each call has a 30 s deadline. */
export function createTestClient(address: string): TestClient {
  const raw = new WorkflowServiceClient(address, credentials.createInsecure());
  const client: Record<string, unknown> = { raw, close: () => raw.close() };
  for (const name of UNARY) {
    const method = (raw[name] as unknown as Unary<unknown, unknown>).bind(raw);
    client[name] = (request: unknown) =>
      new Promise((resolve, reject) => {
        method(request, new Metadata(), { deadline: new Date(Date.now() + 30_000) }, (err, res) =>
          err ? reject(err) : resolve(res),
        );
      });
  }
  return client as TestClient;
}
