/**
 * A server-streaming call answered as Server-Sent Events. It stands in for grpc-js's
 * ServerWritableStream (the parts WatchExecution uses: request, write with back-pressure, end,
 * cancelled, and the "error" event), so the HTTP route runs the same handler as gRPC.
 *
 * Each message is an SSE event with the message's JSON as data and, when the message has an
 * event id, that id (a browser's EventSource resends it as Last-Event-ID when it reconnects). The
 * end of the stream is an `end` event; a failure after the stream began is an `error` event with
 * the status as data. A failure before anything was sent is a plain JSON error response.
 */
import { EventEmitter } from "node:events";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Metadata, status } from "@grpc/grpc-js";

/** How often a comment line keeps idle connections (and proxies) open, in ms. */
const KEEP_ALIVE_MS = 15_000;

export interface SseCallOptions<Req, Res> {
  request: Req;
  /** The caller's credentials, as the gRPC handler reads them. */
  metadata: Metadata;
  /** The caller's address (grpc-js's `getPeer()`). */
  peer: string;
  req: IncomingMessage;
  res: ServerResponse;
  /** The message as JSON (the response type's toJSON). */
  toJSON: (message: Res) => unknown;
  /** The SSE id of a message, if any. */
  idOf: (message: Res) => string | undefined;
  /** Answers a failure before the stream began (a JSON error response). */
  fail: (err: { code?: status; details?: string }) => void;
  /** Turns a failure after the stream began into the `error` event's data. */
  errorBody: (err: { code?: status; details?: string }) => unknown;
}

/** The stand-in for a gRPC server stream; see the module comment. */
export class SseCall<Req, Res> extends EventEmitter {
  readonly request: Req;
  readonly metadata: Metadata;
  cancelled = false;
  private started = false;
  private finished = false;
  private keepAlive: NodeJS.Timeout | undefined;

  /** The caller's address, as on a grpc-js call. */
  getPeer(): string {
    return this.options.peer;
  }

  constructor(private readonly options: SseCallOptions<Req, Res>) {
    super();
    this.request = options.request;
    this.metadata = options.metadata;
    const { req, res } = options;
    const gone = () => {
      if (this.finished) return;
      this.finished = true;
      this.cancelled = true;
      this.stopKeepAlive();
      this.emit("cancelled");
      this.emit("close");
    };
    req.on("close", gone);
    res.on("close", gone);
    res.on("drain", () => this.emit("drain"));
    // A handler reports its failure as an "error" event, as on a grpc-js stream.
    this.on("error", (err: { code?: status; details?: string }) => this.failWith(err));
  }

  private begin(): void {
    if (this.started) return;
    this.started = true;
    this.options.res.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache",
      connection: "keep-alive",
      // Proxies such as nginx buffer responses unless told not to.
      "x-accel-buffering": "no",
    });
    this.options.res.flushHeaders();
    this.keepAlive = setInterval(() => this.options.res.write(": keep-alive\n\n"), KEEP_ALIVE_MS);
    this.keepAlive.unref();
  }

  private stopKeepAlive(): void {
    if (this.keepAlive !== undefined) clearInterval(this.keepAlive);
    this.keepAlive = undefined;
  }

  /** Sends the headers now, so that a client sees the stream open before the first event. */
  open(): void {
    this.begin();
  }

  /** Sends one message; false when the socket's buffer is full (wait for "drain"). */
  write(message: Res): boolean {
    if (this.finished) return false;
    this.begin();
    const id = this.options.idOf(message);
    const data = JSON.stringify(this.options.toJSON(message));
    return this.options.res.write(`${id === undefined ? "" : `id: ${id}\n`}data: ${data}\n\n`);
  }

  /** Ends the stream with an `end` event. */
  end(): void {
    if (this.finished) return;
    this.begin();
    this.finished = true;
    this.stopKeepAlive();
    this.options.res.end("event: end\ndata: {}\n\n");
  }

  private failWith(err: { code?: status; details?: string }): void {
    if (this.finished) return;
    if (!this.started) {
      this.finished = true;
      this.options.fail(err);
      return;
    }
    this.finished = true;
    this.stopKeepAlive();
    this.options.res.end(`event: error\ndata: ${JSON.stringify(this.options.errorBody(err))}\n\n`);
  }
}
