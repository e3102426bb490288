/**
 * Server-Sent Events over fetch(): EventSource cannot send an Authorization header, and putting
 * the token in the URL (logged by proxies) or a cookie (sent by any site's forms: CSRF) would be
 * worse. {@link SseParser} is the text/event-stream format as the HTML standard defines it;
 * {@link readEventStream} opens the stream, reconnects after a drop and resumes with
 * Last-Event-ID, as EventSource does.
 */

/** One dispatched event. */
export interface SseMessage {
  /** The `event:` field; "message" when absent. */
  event: string;
  /** The `data:` lines joined with "\n". */
  data: string;
  /** The last `id:` seen on the stream so far (it carries over to later events); "" when none. */
  lastEventId: string;
}

/** Incremental parser: feed it decoded text in any chunks, it returns the complete events. */
export class SseParser {
  private buffer = "";
  private data: string[] = [];
  private event = "";
  private lastEventId = "";
  /** Set when the previous chunk ended in "\r": a "\n" starting the next one is the same line end. */
  private afterCr = false;

  /** The id to resume from: the last `id:` field seen. */
  get resumeId(): string {
    return this.lastEventId;
  }

  /** Parses `chunk` and returns the events it completes. */
  push(chunk: string): SseMessage[] {
    let text = chunk;
    if (this.afterCr && text.startsWith("\n")) text = text.slice(1);
    this.afterCr = text.endsWith("\r");
    this.buffer += text;
    const out: SseMessage[] = [];
    const lineEnd = /\r\n|\r|\n/g;
    let start = 0;
    for (let m = lineEnd.exec(this.buffer); m !== null; m = lineEnd.exec(this.buffer)) {
      // A lone "\r" at the very end may be the first half of "\r\n": handled by afterCr.
      this.line(this.buffer.slice(start, m.index), out);
      start = m.index + m[0].length;
    }
    this.buffer = this.buffer.slice(start);
    return out;
  }

  private line(line: string, out: SseMessage[]): void {
    if (line === "") {
      if (this.data.length > 0) {
        out.push({
          event: this.event || "message",
          data: this.data.join("\n"),
          lastEventId: this.lastEventId,
        });
      }
      this.data = [];
      this.event = "";
      return;
    }
    if (line.startsWith(":")) return;
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "data") this.data.push(value);
    else if (field === "event") this.event = value;
    else if (field === "id" && !value.includes("\0")) this.lastEventId = value;
    // "retry" and unknown fields: ignored (the reader's back-off is its own).
  }
}

/** A refusal or failure of the stream's request, with the API's JSON error when it sent one. */
export class SseHttpError extends Error {
  override readonly name = "SseHttpError";
  constructor(
    readonly httpStatus: number,
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

export interface ReadEventStreamOptions {
  /** Headers for each (re)connection, read anew each time (the token may have changed). */
  headers: () => Record<string, string>;
  /** Called with each event. */
  onMessage: (message: SseMessage) => void;
  /** Called when a connection opens (again). */
  onOpen?: () => void;
  /** Called with each failed attempt; `willRetry` says whether another follows. */
  onError?: (err: unknown, willRetry: boolean) => void;
  /** Stops the stream for good. */
  signal: AbortSignal;
  /** Returns true when the stream is complete and must not be reopened (e.g. after an `end` event). */
  isDone: () => boolean;
  /** First wait before reconnecting, in ms, doubled per failure up to 30 s. Default 1000. */
  retryMs?: number;
  /** Statuses after which no reconnect is tried. Default 400, 401, 403, 404. */
  finalStatuses?: readonly number[];
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
  });

/**
 * Reads the event stream at `url` until `isDone()`, the signal aborts, or the server answers a
 * final status; a dropped connection is reopened with `Last-Event-ID` set to the last id seen, so
 * the server resumes after it. Resolves when it stops; never rejects (failures go to onError).
 */
export async function readEventStream(url: string, options: ReadEventStreamOptions): Promise<void> {
  const { signal } = options;
  const finalStatuses = options.finalStatuses ?? [400, 401, 403, 404];
  const firstRetryMs = options.retryMs ?? 1000;
  let retryMs = firstRetryMs;
  let resumeId = "";
  while (!signal.aborted && !options.isDone()) {
    const parser = new SseParser();
    try {
      const res = await fetch(url, {
        headers: {
          accept: "text/event-stream",
          ...options.headers(),
          ...(resumeId === "" ? {} : { "last-event-id": resumeId }),
        },
        signal,
      });
      if (!res.ok || res.body === null) {
        const text = await res.text().catch(() => "");
        let body: { code?: number; message?: string } = {};
        try {
          body = JSON.parse(text) as typeof body;
        } catch {
          // Not the API's JSON (a proxy's page): the status text says enough.
        }
        const err = new SseHttpError(
          res.status,
          Number(body.code ?? 2),
          String(body.message ?? res.statusText),
        );
        if (finalStatuses.includes(res.status)) {
          options.onError?.(err, false);
          return;
        }
        throw err;
      }
      options.onOpen?.();
      retryMs = firstRetryMs;
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        for (const message of parser.push(value)) {
          options.onMessage(message);
          if (options.isDone()) {
            await reader.cancel().catch(() => undefined);
            return;
          }
        }
        if (parser.resumeId !== "") resumeId = parser.resumeId;
      }
    } catch (err) {
      if (signal.aborted) return;
      if (parser.resumeId !== "") resumeId = parser.resumeId;
      options.onError?.(err, true);
      await sleep(retryMs, signal);
      retryMs = Math.min(retryMs * 2, 30_000);
      continue;
    }
    if (parser.resumeId !== "") resumeId = parser.resumeId;
    // The server closed the stream without saying it was complete: reopen it after a pause.
    if (!options.isDone()) await sleep(firstRetryMs, signal);
  }
}
