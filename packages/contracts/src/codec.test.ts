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

describe("encode", () => {
  const fresh = (message: EventBatch): Buffer => Buffer.from(EventBatch.encode(message).finish());
  const large: EventBatch = { ...batch, executionId: "e-large".padEnd(4096, "x") };

  it("returns bytes of the caller's own, which a later encode leaves as they are", () => {
    const first = encode(EventBatch, large);
    const second = encode(EventBatch, batch);
    expect(Buffer.from(first)).toEqual(fresh(large));
    expect(Buffer.from(second)).toEqual(fresh(batch));
    expect(EventBatch.decode(first).executionId).toBe(large.executionId);
  });

  it("encodes whole messages again after an encode that failed halfway", () => {
    // The events are written after the id: the writer is left half-written when the null throws.
    const broken = { ...large, events: [null] } as unknown as EventBatch;
    expect(() => encode(EventBatch, broken)).toThrow(TypeError);
    expect(Buffer.from(encode(EventBatch, batch))).toEqual(fresh(batch));
    expect(Buffer.from(encode(EventBatch, large))).toEqual(fresh(large));
  });
});
