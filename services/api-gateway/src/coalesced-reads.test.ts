import { CoalescedReads } from "./coalesced-reads";

/** A store whose reads the test answers one by one, in order. */
function controlledStore() {
  let value = 1;
  const pending: Array<{ sentWith: number; answer: () => void; fail: (err: Error) => void }> = [];
  const read = (_key: string) =>
    new Promise<number>((resolve, reject) => {
      // The value as the server has it when the read reaches it.
      const sentWith = value;
      pending.push({ sentWith, answer: () => resolve(sentWith), fail: reject });
    });
  return {
    reads: new CoalescedReads(read),
    pending,
    write: (v: number) => (value = v),
  };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe("CoalescedReads", () => {
  it("shares one read among the callers that ask while another is in flight", async () => {
    const store = controlledStore();
    const first = store.reads.get("wf");
    const joined = [store.reads.get("wf"), store.reads.get("wf"), store.reads.get("wf")];
    expect(store.pending).toHaveLength(1);
    store.pending[0]?.answer();
    expect(await first).toBe(1);
    await settle();
    // One more read for the three that came while the first was in flight.
    expect(store.pending).toHaveLength(2);
    store.pending[1]?.answer();
    expect(await Promise.all(joined)).toEqual([1, 1, 1]);
  });

  it("never answers a caller from a read sent before it asked", async () => {
    const store = controlledStore();
    const early = store.reads.get("wf");
    // A write acknowledged after the first read was sent, before the second caller asks.
    store.write(2);
    const late = store.reads.get("wf");
    store.pending[0]?.answer();
    expect(await early).toBe(1);
    await settle();
    store.pending[1]?.answer();
    expect(await late).toBe(2);
  });

  it("keeps keys apart, and a failed read fails only its own callers", async () => {
    const store = controlledStore();
    const a = store.reads.get("a");
    const b = store.reads.get("b");
    expect(store.pending).toHaveLength(2);
    const aAgain = store.reads.get("a");
    store.pending[0]?.fail(new Error("no responders"));
    store.pending[1]?.answer();
    await expect(a).rejects.toThrow("no responders");
    expect(await b).toBe(1);
    await settle();
    store.pending[2]?.answer();
    expect(await aAgain).toBe(1);
    // Everything settled: the next call reads afresh.
    await settle();
    const fresh = store.reads.get("a");
    expect(store.pending).toHaveLength(4);
    store.pending[3]?.answer();
    expect(await fresh).toBe(1);
  });
});
