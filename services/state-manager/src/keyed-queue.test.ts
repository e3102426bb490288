import { KeyedQueue } from "./keyed-queue";

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = (): void => {};
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

describe("KeyedQueue", () => {
  it("runs the tasks of one key one at a time, in order", async () => {
    const queue = new KeyedQueue();
    const order: string[] = [];
    const first = deferred();
    const a = queue.run("x", async () => {
      order.push("a start");
      await first.promise;
      order.push("a end");
    });
    const b = queue.run("x", async () => {
      order.push("b");
      return 2;
    });
    await Promise.resolve();
    expect(order).toEqual(["a start"]);
    first.resolve();
    await a;
    expect(await b).toBe(2);
    expect(order).toEqual(["a start", "a end", "b"]);
  });

  it("runs tasks of different keys concurrently", async () => {
    const queue = new KeyedQueue();
    const blocker = deferred();
    const order: string[] = [];
    const a = queue.run("x", async () => {
      await blocker.promise;
      order.push("x");
    });
    await queue.run("y", async () => {
      order.push("y");
    });
    expect(order).toEqual(["y"]);
    blocker.resolve();
    await a;
    expect(order).toEqual(["y", "x"]);
  });

  it("keeps going after a failed task and forgets idle keys", async () => {
    const queue = new KeyedQueue();
    const failed = queue.run("x", () => Promise.reject(new Error("boom")));
    const next = queue.run("x", async () => "ok");
    await expect(failed).rejects.toThrow("boom");
    expect(await next).toBe("ok");
    await new Promise((resolve) => setImmediate(resolve));
    expect(queue.activeKeys).toBe(0);
  });
});
