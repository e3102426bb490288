/**
 * The HTTP/JSON API and the web console, on node:http. Every route runs the same WorkflowService
 * implementation as gRPC (same validation, same errors): the request is read from the path, query
 * and body in the proto3 JSON mapping, the gRPC status of a failure becomes the HTTP status, and
 * the body is google.rpc.Status JSON ({code, message, details}). WatchExecution is Server-Sent
 * Events. /openapi.json is the OpenAPI document generated from the protos. With the API's TLS
 * settings it is HTTPS (see tls.ts), with the gRPC port's certificate and client CA.
 */
import { createServer } from "node:http";
import type { IncomingMessage, Server as PlainServer, ServerResponse } from "node:http";
import type { Server as HttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { Metadata, status } from "@grpc/grpc-js";
import type { ServiceError } from "@grpc/grpc-js";
import { openApiDocument } from "@jetflow/contracts";
import type { WorkflowServiceServer } from "@jetflow/contracts";
import type { Logger } from "@jetflow/service-runtime";
import { ApiError } from "../errors";
import { matchRoute, requestObject } from "./routes";
import type { CompiledRoute } from "./routes";
import { SseCall } from "./sse";
import { serveConsole } from "./static-files";
import { httpStatusOf, statusBody } from "./status";
import { createHttpsServer } from "../tls";
import type { ApiTlsConfig } from "../tls";

/** The HTTP/JSON API's server: node:http, or node:https with the API's TLS settings. */
export type Server = PlainServer | HttpsServer;

export interface HttpServerOptions {
  /** The WorkflowService implementation the gRPC server runs too. */
  service: WorkflowServiceServer;
  log: Logger;
  /** The built console's directory; undefined serves the API only. */
  consoleDir: string | undefined;
  /** Largest request body, in bytes. Default 4 MiB (gRPC's default message limit). */
  maxBodyBytes?: number;
  /** The API's certificate files: HTTPS (mutual TLS with a client CA). Default: plain HTTP. */
  tls?: ApiTlsConfig | undefined;
}

type GrpcFailure = Partial<ServiceError>;
type UnaryHandler = (
  call: { request: unknown; metadata: Metadata; getPeer(): string },
  callback: (err: GrpcFailure | null, response?: unknown) => void,
) => void;
type StreamHandler = (call: SseCall<unknown, unknown>) => void;

function sendJson(res: ServerResponse, httpStatus: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(httpStatus, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
    "cache-control": "no-store",
  });
  res.end(text);
}

function sendStatus(
  res: ServerResponse,
  code: status,
  message: string,
  httpStatus = httpStatusOf(code),
): void {
  sendJson(res, httpStatus, statusBody(code, message));
}

function sendFailure(res: ServerResponse, err: GrpcFailure): void {
  const code = err.code ?? status.INTERNAL;
  // A rate-limited call says when to come back (RFC 9110 Retry-After, in seconds).
  const retryAfter = err.metadata?.get("retry-after")[0];
  if (typeof retryAfter === "string" && !res.headersSent) res.setHeader("retry-after", retryAfter);
  sendStatus(res, code, err.details ?? "internal error");
}

/** Reads the body as JSON; undefined when empty. */
async function readJsonBody(req: IncomingMessage, maxBytes: number): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes)
      throw new ApiError(status.RESOURCE_EXHAUSTED, `request body is larger than ${maxBytes} bytes`);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString("utf8");
  if (text.trim() === "") return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw ApiError.invalid(`invalid request:\nbody: not JSON: ${(err as Error).message}`);
  }
}

function eventIdOf(message: unknown): string | undefined {
  const id = (message as { event?: { eventId?: number } }).event?.eventId;
  return id === undefined ? undefined : String(id);
}

/**
 * The caller's credentials as gRPC metadata: the same `authorization: Bearer …` header the gRPC
 * API reads, so both front doors authenticate and authorize alike (see docs/security.md).
 */
function credentialsOf(req: IncomingMessage): Metadata {
  const metadata = new Metadata();
  const authorization = req.headers.authorization;
  if (typeof authorization === "string") metadata.set("authorization", authorization);
  return metadata;
}

/** The caller's address, as grpc-js's `getPeer()` gives it (the rate limiter's key without auth). */
function peerOf(req: IncomingMessage): string {
  return req.socket.remoteAddress ?? "unknown";
}

/** Calls the route's handler and answers `res`. */
async function callRoute(
  options: HttpServerOptions,
  compiled: CompiledRoute,
  pathValues: string[],
  url: URL,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const { route } = compiled;
  const body =
    route.body === "*" ? await readJsonBody(req, options.maxBodyBytes ?? 4 * 1024 * 1024) : undefined;
  const object = requestObject(compiled, pathValues, url.searchParams, body);
  // An EventSource that reconnects says where it was; the watch resumes after that event.
  const lastEventId = req.headers["last-event-id"];
  if (route.streaming && typeof lastEventId === "string" && /^\d{1,15}$/.test(lastEventId)) {
    object.fromEventId = Number(lastEventId) + 1;
  }
  const request = route.request.fromJSON(object);
  const metadata = credentialsOf(req);
  const handler = (options.service as unknown as Record<string, unknown>)[compiled.handler];
  if (typeof handler !== "function")
    throw new ApiError(status.UNIMPLEMENTED, `${route.method} is not implemented`);
  if (route.streaming) {
    const call = new SseCall<unknown, unknown>({
      request,
      metadata,
      peer: peerOf(req),
      req,
      res,
      toJSON: (message) => route.response.toJSON(message),
      idOf: eventIdOf,
      fail: (err) => sendFailure(res, err),
      errorBody: (err) => statusBody(err.code ?? status.INTERNAL, err.details ?? "internal error"),
    });
    (handler as StreamHandler)(call);
    return;
  }
  await new Promise<void>((resolve) => {
    (handler as UnaryHandler)({ request, metadata, getPeer: () => peerOf(req) }, (err, response) => {
      if (err) sendFailure(res, err);
      else sendJson(res, 200, route.response.toJSON(response));
      resolve();
    });
  });
}

/**
 * Creates the HTTP server (HTTPS with `options.tls`); `listen` it with `listenHttp`.
 * @throws ConfigError on bad certificate files
 */
export function createHttpServer(options: HttpServerOptions): Server {
  const { log } = options;
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? "/", "http://localhost");
    const verb = req.method ?? "GET";
    if (url.pathname === "/openapi.json" && (verb === "GET" || verb === "HEAD")) {
      sendJson(res, 200, openApiDocument);
      return;
    }
    const match = matchRoute(verb, url.pathname);
    if (match.kind === "route") {
      await callRoute(options, match.compiled, match.pathValues, url, req, res);
      return;
    }
    if (match.kind === "wrong-verb") {
      res.setHeader("allow", match.allowed.join(", "));
      sendStatus(res, status.UNIMPLEMENTED, `${verb} is not allowed on ${url.pathname}`, 405);
      return;
    }
    const isApiPath = url.pathname.startsWith("/v1/") || url.pathname === "/v1";
    if (!isApiPath && (verb === "GET" || verb === "HEAD") && options.consoleDir !== undefined) {
      if (await serveConsole(options.consoleDir, url.pathname, res)) return;
    }
    sendStatus(res, status.NOT_FOUND, `no route for ${verb} ${url.pathname}`);
  };
  const listener = (req: IncomingMessage, res: ServerResponse): void => {
    handle(req, res).catch((err: unknown) => {
      if (err instanceof ApiError) {
        if (!res.headersSent) sendStatus(res, err.code, err.message);
        return;
      }
      log.error({ err, method: req.method, url: req.url }, "http request failed");
      if (!res.headersSent) sendStatus(res, status.INTERNAL, "internal error");
      else res.destroy();
    });
  };
  return options.tls ? createHttpsServer(options.tls, listener) : createServer(listener);
}

/** Listens on `host`:`port` (0: a free port); resolves with the bound port. */
export function listenHttp(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/** Stops accepting connections and closes the open ones (SSE streams included). */
export function closeHttp(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
