import { createServer } from "node:http";
import type { IncomingHttpHeaders, Server } from "node:http";
import type { AddressInfo } from "node:net";
import { SseParser, readEventStream } from "./sse-reader";
import type { SseMessage } from "./sse-reader";

describe("the text/event-stream parser", () => {
  it("dispatches an event at each blank line, whatever the chunking and line ends", () => {
    const text =
      'id: 1\ndata: {"a":1}\n\n: keep-alive\n\nid: 2\r\ndata: x\r\ndata:y\r\n\r\nevent: end\rdata: {}\r\r';
    const whole = new SseParser().push(text);
    const expected: SseMessage[] = [
      { event: "message", data: '{"a":1}', lastEventId: "1" },
      { event: "message", data: "x\ny", lastEventId: "2" },
      { event: "end", data: "{}", lastEventId: "2" },
    ];
    expect(whole).toEqual(expected);
    // One character at a time: a "\r\n" split across chunks is still one line end.
    const parser = new SseParser();
    const byChar = [...text].flatMap((c) => parser.push(c));
    expect(byChar).toEqual(expected);
    expect(parser.resumeId).toBe("2");
  });

  it("ignores comments, unknown fields and events without data", () => {
    expect(new SseParser().push(": hi\nretry: 10\nfoo: bar\n\nevent: lonely\n\ndata\n\n")).toEqual([
      { event: "message", data: "", lastEventId: "" },
    ]);
  });
});

describe("reading an event stream over fetch", () => {
  let server: Server;
  let url: string;
  const seen: IncomingHttpHeaders[] = [];

  beforeAll(async () => {
    // First connection: two events, then the connection drops. Second: resumes after the last id.
    server = createServer((req, res) => {
      seen.push(req.headers);
      if (req.headers.authorization !== "Bearer good") {
        res.writeHead(401, { "content-type": "application/json" });
        res.end(JSON.stringify({ code: 16, message: "missing or invalid credentials" }));
        return;
      }
      res.writeHead(200, { "content-type": "text/event-stream" });
      if (req.headers["last-event-id"] === undefined) {
        res.write("id: 1\ndata: one\n\n");
        res.end("id: 2\ndata: two\n\n");
      } else {
        res.end(`id: 3\ndata: after ${String(req.headers["last-event-id"])}\n\nevent: end\ndata: {}\n\n`);
      }
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/watch`;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it("sends the Authorization header and resumes after a drop with Last-Event-ID", async () => {
    const messages: SseMessage[] = [];
    let ended = false;
    await readEventStream(url, {
      headers: () => ({ authorization: "Bearer good" }),
      onMessage: (m) => {
        messages.push(m);
        if (m.event === "end") ended = true;
      },
      signal: new AbortController().signal,
      isDone: () => ended,
      retryMs: 10,
    });
    expect(messages.map((m) => m.data)).toEqual(["one", "two", "after 2", "{}"]);
    expect(seen.map((h) => [h.authorization, h["last-event-id"]])).toEqual([
      ["Bearer good", undefined],
      ["Bearer good", "2"],
    ]);
  });

  it("stops at a 401 and reports the API's error without retrying", async () => {
    const errors: [unknown, boolean][] = [];
    seen.length = 0;
    await readEventStream(url, {
      headers: () => ({ authorization: "Bearer bad" }),
      onMessage: () => undefined,
      onError: (err, willRetry) => errors.push([err, willRetry]),
      signal: new AbortController().signal,
      isDone: () => false,
      retryMs: 10,
    });
    expect(seen).toHaveLength(1);
    expect(errors).toHaveLength(1);
    expect(errors[0]?.[1]).toBe(false);
    expect(errors[0]?.[0]).toMatchObject({
      name: "SseHttpError",
      httpStatus: 401,
      code: 16,
      message: "missing or invalid credentials",
    });
  });
});
