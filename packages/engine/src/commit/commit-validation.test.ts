import { CommitRequest, EventBatch, ExecutionSnapshot, encode, subjects } from "@jetflow/contracts";
import { commitRequest, makeBatch } from "../test-support/history-builders";
import { parseCommitRequest } from "./commit-validation";

const subject = subjects.stateCommit;
const limits = { maxSnapshotBytes: 900 * 1024 };

function parse(request: CommitRequest, max = limits.maxSnapshotBytes) {
  return parseCommitRequest(encode(CommitRequest, request), subject, { maxSnapshotBytes: max });
}

function reason(request: CommitRequest, max?: number): string {
  const result = parse(request, max);
  if (result.ok) throw new Error("expected the request to be refused");
  return result.reason;
}

const first = commitRequest(undefined, makeBatch("exec-1", 1, 2));

describe("parseCommitRequest", () => {
  it("accepts a first batch expecting sequence 0 and returns the bytes to append", () => {
    const result = parse(first);
    if (!result.ok) throw new Error(result.reason);
    expect(result.commit.executionId).toBe("exec-1");
    expect(result.commit.firstEventId).toBe(1);
    expect(result.commit.lastEventId).toBe(2);
    expect(result.commit.expectedLastEventSeq).toBe(0);
    expect(EventBatch.decode(result.commit.batchBytes)).toEqual(first.batch);
    expect(result.commit.snapshot.lastEventId).toBe(2);
  });

  it("appends the batch's own bytes from inside the request, without encoding it again", () => {
    const data = encode(CommitRequest, first);
    const result = parseCommitRequest(data, subject, limits);
    if (!result.ok) throw new Error(result.reason);
    const bytes = result.commit.batchBytes;
    // A view into the request's bytes, not a fresh encoding.
    expect(bytes.buffer).toBe(data.buffer);
    expect(Buffer.from(bytes)).toEqual(Buffer.from(encode(EventBatch, first.batch!)));
  });

  it("encodes the batch again when the request carries it twice (the decoded one is what was checked)", () => {
    const other = makeBatch("exec-1", 1, 1);
    const head = encode(CommitRequest, { ...first, batch: other });
    const tail = encode(CommitRequest, { batch: first.batch, expectedLastEventSeq: 0, snapshot: undefined });
    const result = parseCommitRequest(Buffer.concat([head, tail]), subject, limits);
    if (!result.ok) throw new Error(result.reason);
    expect(EventBatch.decode(result.commit.batchBytes)).toEqual(result.commit.batch);
    expect(result.commit.lastEventId).toBe(2);
  });

  it("accepts a later batch expecting a sequence above 0", () => {
    const previous = { ...first.snapshot!, lastEventSeq: 7 };
    const result = parse(commitRequest(previous, makeBatch("exec-1", 3, 4)));
    expect(result.ok).toBe(true);
  });

  it("refuses bytes that are not a CommitRequest", () => {
    expect(parseCommitRequest(new Uint8Array([0xff, 0xff, 0xff]), subject, limits)).toEqual({
      ok: false,
      reason: expect.stringMatching(
        new RegExp(`^cannot decode CommitRequest received on "${subjects.stateCommit}": `),
      ),
    });
  });

  it("refuses a request without a batch", () => {
    expect(reason({ ...first, batch: undefined })).toBe("commit request has no batch");
  });

  it("refuses an invalid execution id", () => {
    const batch = makeBatch("exec.1", 1, 1);
    expect(reason({ ...commitRequest(undefined, batch) })).toBe('invalid execution id "exec.1"');
  });

  it("refuses an empty batch", () => {
    expect(reason({ ...first, batch: { ...first.batch!, events: [] } })).toBe(
      'batch of execution "exec-1" has no events',
    );
  });

  it("refuses event ids below 1", () => {
    const events = first.batch!.events.map((e) => ({ ...e, eventId: e.eventId - 1 }));
    expect(reason({ ...first, batch: { ...first.batch!, events } })).toBe(
      'batch of execution "exec-1" starts at event id 0, not at 1 or above',
    );
  });

  it("refuses event ids with a gap", () => {
    const batch = makeBatch("exec-1", 1, 3);
    batch.events.splice(1, 1);
    expect(reason({ ...first, batch })).toBe(
      'event ids of execution "exec-1" are not consecutive: 3 follows 1',
    );
  });

  it("refuses an event of another execution", () => {
    const batch = makeBatch("exec-1", 1, 2);
    batch.events[1]!.executionId = "exec-2";
    expect(reason({ ...first, batch })).toBe('event 2 names execution "exec-2", not "exec-1"');
  });

  it("refuses an event without details", () => {
    const batch = makeBatch("exec-1", 1, 2);
    batch.events[1]!.details = undefined;
    expect(reason({ ...first, batch })).toBe('event 2 of execution "exec-1" has no details');
  });

  it("refuses a first batch that expects an existing history", () => {
    expect(reason({ ...first, expectedLastEventSeq: 4 })).toBe(
      'batch of execution "exec-1" starts at event 1 but expects last event sequence 4, not 0',
    );
  });

  it("refuses a later batch that expects an empty history", () => {
    const later = commitRequest(first.snapshot, makeBatch("exec-1", 3, 1));
    expect(reason({ ...later, expectedLastEventSeq: 0 })).toBe(
      'batch of execution "exec-1" starts at event 3 but expects an empty history (sequence 0)',
    );
  });

  it("refuses a request without a snapshot", () => {
    expect(reason({ ...first, snapshot: undefined })).toBe(
      'commit request of execution "exec-1" has no snapshot',
    );
  });

  it("refuses a snapshot of another execution", () => {
    expect(reason({ ...first, snapshot: { ...first.snapshot!, executionId: "exec-2" } })).toBe(
      'snapshot is of execution "exec-2", not "exec-1"',
    );
  });

  it("refuses a snapshot that does not end at the batch's last event", () => {
    expect(reason({ ...first, snapshot: { ...first.snapshot!, lastEventId: 1 } })).toBe(
      'snapshot of execution "exec-1" ends at event 1, not at the batch\'s last event 2',
    );
  });

  it("refuses a snapshot over the size limit, counting the sequence still to be filled in", () => {
    const snapshot = { ...first.snapshot!, inputJson: "x".repeat(2000) };
    const message = reason({ ...first, snapshot }, 2000);
    expect(message).toMatch(/^snapshot of execution "exec-1" is \d+ bytes, over the limit of 2000 bytes$/);
    const size = Number(/is (\d+) bytes/.exec(message)?.[1]);
    expect(parse({ ...first, snapshot }, size).ok).toBe(true);
    expect(parse({ ...first, snapshot }, size - 1).ok).toBe(false);
  });

  it("judges the size the same when the whole request fits the limit and it skips measuring", () => {
    const snapshot = { ...first.snapshot!, inputJson: "x".repeat(2000), lastEventSeq: 0 };
    const request = { ...first, snapshot };
    const requestBytes = encode(CommitRequest, request).length;
    const exact = encode(ExecutionSnapshot, { ...snapshot, lastEventSeq: Number.MAX_SAFE_INTEGER }).length;
    for (let limit = exact - 5; limit <= requestBytes + 20; limit++) {
      expect({ limit, ok: parse(request, limit).ok }).toEqual({ limit, ok: exact <= limit });
    }
  });
});
