import { embeddedMessageBytes, encode } from "./codec";
import { CommitRequest, EventBatch } from "./gen/jetflow/v1/engine";

const batch: EventBatch = { executionId: "e-1", events: [], parent: undefined, traceParent: undefined };

describe("embeddedMessageBytes", () => {
  it("returns a view of the embedded message's bytes, equal to its own encoding", () => {
    const data = encode(CommitRequest, { batch, expectedLastEventSeq: 7, snapshot: undefined });
    const bytes = embeddedMessageBytes(data, 1);
    expect(bytes?.buffer).toBe(data.buffer);
    expect(Buffer.from(bytes ?? [])).toEqual(Buffer.from(encode(EventBatch, batch)));
  });

  it("returns undefined when the field is absent or occurs twice", () => {
    const once = encode(CommitRequest, { batch, expectedLastEventSeq: 7, snapshot: undefined });
    expect(embeddedMessageBytes(once, 3)).toBeUndefined();
    expect(embeddedMessageBytes(Buffer.concat([once, once]), 1)).toBeUndefined();
  });
});
