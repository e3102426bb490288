/**
 * The Step Functions endpoint on node:http: AWS JSON 1.0 (`POST /`, `Content-Type:
 * application/x-amz-json-1.0`, `X-Amz-Target: AWSStepFunctions.<Operation>`), the SigV4 check when
 * access keys are configured, then the operation. Errors are AWS's shape: `{ __type, message }`
 * with the `x-amzn-ErrorType` header and the error's HTTP status.
 */
import { randomUUID } from "node:crypto";
import { createServer } from "node:http";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { Logger } from "@jetflow/service-runtime";
import { ANONYMOUS } from "../auth";
import type { SfnAuthorizer } from "./authorize";
import { sfnCaller } from "./authorize";
import { SfnError, toSfnError } from "./errors";
import type { CallInfo, Operation, SfnContext } from "./operations";
import { operations } from "./operations";
import { verifySignature } from "./sigv4";

export interface SfnServerOptions {
  context: SfnContext;
  log: Logger;
  /** Access key id → secret; undefined accepts any signature (the local mode). */
  accessKeys: ReadonlyMap<string, string> | undefined;
  /**
   * Decides whether a verified signer may call an operation on what the request names, and
   * answers the caller's identity (see authorize.ts); throw an SfnError (AccessDeniedException...)
   * to refuse. Default: every caller is anonymous and may call everything.
   */
  authorize?: SfnAuthorizer;
  /** Largest request body, in bytes. Default 2 MiB (a 1 MiB definition, JSON-escaped). */
  maxBodyBytes?: number;
  now?: () => number;
}

const TARGET_PREFIX = "AWSStepFunctions.";
const CONTENT_TYPE = "application/x-amz-json-1.0";

function send(
  res: ServerResponse,
  httpStatus: number,
  body: object,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(httpStatus, {
    "content-type": CONTENT_TYPE,
    "content-length": Buffer.byteLength(text),
    "x-amzn-requestid": randomUUID(),
    ...headers,
  });
  res.end(text);
}

function sendError(res: ServerResponse, err: SfnError): void {
  send(res, err.httpStatus, err.toBody(), { "x-amzn-errortype": err.type });
}

async function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes)
      throw new SfnError("ValidationException", `request body is larger than ${maxBytes} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** The operation an `X-Amz-Target` names. @throws SfnError UnknownOperationException */
export function operationOf(target: string | undefined): { name: string; operation: Operation } {
  const name = target?.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : undefined;
  const operation = name === undefined ? undefined : operations[name];
  if (name === undefined || operation === undefined || !Object.hasOwn(operations, name)) {
    throw new SfnError("UnknownOperationException", `Unknown operation ${target ?? "(no X-Amz-Target)"}`);
  }
  return { name, operation };
}

/** The request body as a JSON object. @throws SfnError SerializationException */
function parseRequest(body: Buffer): Record<string, unknown> {
  const text = body.toString("utf8");
  if (text.trim() === "") return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new SfnError("SerializationException", "the request body is not JSON");
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new SfnError("SerializationException", "the request body must be a JSON object");
  }
  return parsed as Record<string, unknown>;
}

/** Creates the HTTP server of the Step Functions API; listen with `listenHttp`. */
export function createSfnServer(options: SfnServerOptions): Server {
  const { log } = options;
  const now = options.now ?? Date.now;
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    // Registered first: a client may leave while the body is read or the call authorized.
    let gone = false;
    let answered = false;
    let closed = false;
    const settles: ((sent: boolean) => void)[] = [];
    res.once("close", () => {
      closed = true;
      gone = !res.writableFinished;
      const sent = answered && res.writableFinished;
      for (const settle of settles) settle(sent);
    });
    const call: CallInfo = {
      gone: () => gone,
      afterResponse: (settle) => {
        if (closed) settle(false);
        else settles.push(settle);
      },
    };
    const url = new URL(req.url ?? "/", "http://localhost");
    if (req.method !== "POST" || url.pathname !== "/") {
      throw new SfnError("UnknownOperationException", `jetflow's Step Functions API answers POST / only`);
    }
    const contentType = (req.headers["content-type"] ?? "").split(";")[0]?.trim();
    const body = await readBody(req, options.maxBodyBytes ?? 2 * 1024 * 1024);
    const target = req.headers["x-amz-target"];
    const signer =
      options.accessKeys === undefined
        ? undefined
        : verifySignature(
            { method: "POST", path: url.pathname, query: url.search.slice(1), headers: req.headers, body },
            options.accessKeys,
            now(),
          );
    const { name, operation } = operationOf(Array.isArray(target) ? target[0] : target);
    if (contentType !== CONTENT_TYPE && contentType !== "application/json") {
      throw new SfnError(
        "SerializationException",
        `Content-Type must be ${CONTENT_TYPE}, got "${contentType}"`,
      );
    }
    const request = parseRequest(body);
    const identity = options.authorize ? await options.authorize(signer, name, request) : ANONYMOUS;
    const started = Date.now();
    // The WorkflowService the operation invokes sees (and records) the same identity.
    const response = await sfnCaller.run(identity, () => operation(options.context, request, call));
    log.debug(
      {
        operation: name,
        ms: Date.now() - started,
        accessKeyId: signer?.accessKeyId,
        identity: identity.name,
      },
      "sfn request",
    );
    if (!gone) {
      answered = true;
      send(res, 200, response);
    }
  };
  return createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      const sfnError = toSfnError(err);
      if (sfnError.type === "InternalFailure") log.error({ err, url: req.url }, "sfn request failed");
      else if (sfnError.type === "AccessDeniedException")
        log.info({ reason: sfnError.message }, "sfn call refused");
      else if (sfnError.type === "ServiceUnavailable") log.warn({ err }, "sfn request: engine unavailable");
      if (!res.headersSent && !res.destroyed) sendError(res, sfnError);
    });
  });
}
