import type { NatsConnection } from "@nats-io/transport-node";
import { WorkerError } from "./errors";
import { workerConnectionOptions } from "./run-worker";
import { createWorker } from "./worker";

// createWorker only validates; the connection is first used by start().
const nc = {} as NatsConnection;

function creationError(options: Partial<Parameters<typeof createWorker>[0]>): unknown {
  try {
    createWorker({ nc, handlers: { work: () => null }, ...options });
  } catch (err) {
    return err;
  }
  return undefined;
}

describe("createWorker", () => {
  it("refuses an activity name Step Functions would refuse, saying which character is wrong", () => {
    const err = creationError({ handlers: { "send email": () => null } });
    expect(err).toBeInstanceOf(WorkerError);
    expect((err as WorkerError).message).toBe(
      'invalid activity "send email": it contains whitespace (U+0020) at character 5',
    );
    expect((creationError({ handlers: { "jobs.*": () => null } }) as Error).message).toBe(
      'invalid activity "jobs.*": it contains the wildcard "*" at character 6',
    );
  });

  it("accepts dotted and non-ASCII activity names", () => {
    expect(
      creationError({ handlers: { "billing.charge-card": () => null, "envoyer-reçu": () => null } }),
    ).toBe(undefined);
  });

  it("refuses a worker without handlers", () => {
    expect((creationError({ handlers: {} }) as Error).message).toBe(
      "cannot create a worker without handlers",
    );
  });

  it("refuses numbers out of range, naming the option", () => {
    expect((creationError({ concurrency: 0 }) as Error).message).toBe(
      "concurrency must be an integer from 1 to 2147483647, got 0",
    );
    expect((creationError({ pullExpiresMs: 500 }) as Error).message).toBe(
      "pullExpiresMs must be an integer from 1000 to 2147483647, got 500",
    );
    expect((creationError({ stopTimeoutMs: 1.5 }) as Error).message).toBe(
      "stopTimeoutMs must be an integer from 0 to 2147483647, got 1.5",
    );
  });

  it("names itself after the host and process unless told otherwise", () => {
    expect(createWorker({ nc, handlers: { work: () => null } }).workerId).toMatch(/-\d+-[0-9a-f]{6}$/);
    expect(createWorker({ nc, handlers: { work: () => null }, workerId: "w-1" }).workerId).toBe("w-1");
  });
});

describe("workerConnectionOptions", () => {
  it("finds a silently dead connection within 10 s and reconnects forever, past a node that does not answer", () => {
    const options = workerConnectionOptions();
    expect(options).toMatchObject({
      pingInterval: 3_000,
      maxPingOut: 2,
      maxReconnectAttempts: -1,
      timeout: 3_000,
    });
    expect((options.pingInterval ?? 0) * ((options.maxPingOut ?? 0) + 1)).toBeLessThanOrEqual(10_000);
  });
});
