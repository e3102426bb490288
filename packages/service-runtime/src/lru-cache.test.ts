import { LruCache } from "./lru-cache";

describe("LruCache", () => {
  it("evicts the least recently used entry beyond its capacity", () => {
    const cache = new LruCache<string, number>(2);
    cache.set("a", 1);
    cache.set("b", 2);
    expect(cache.get("a")).toBe(1);
    cache.set("c", 3);
    expect(cache.get("b")).toBeUndefined();
    expect(cache.get("a")).toBe(1);
    expect(cache.get("c")).toBe(3);
    expect(cache.size).toBe(2);
  });

  it("replaces a value and counts the key once", () => {
    const cache = new LruCache<string, number>(2);
    cache.set("a", 1);
    cache.set("a", 2);
    expect(cache.get("a")).toBe(2);
    expect(cache.size).toBe(1);
  });

  it("forgets a deleted key", () => {
    const cache = new LruCache<string, number>(2);
    cache.set("a", 1);
    cache.delete("a");
    expect(cache.get("a")).toBeUndefined();
  });

  it("keeps nothing with capacity 0", () => {
    const cache = new LruCache<string, number>(0);
    cache.set("a", 1);
    expect(cache.get("a")).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it("keeps a key read between every write, and evicts the others oldest first", () => {
    const cache = new LruCache<string, number>(4);
    cache.set("hot", 0);
    for (let i = 1; i <= 100; i++) {
      // The hot key is read between every write, like a Map's parent between its children.
      expect(cache.get("hot")).toBe(0);
      cache.set(`child-${i}`, i);
    }
    expect(cache.size).toBe(4);
    expect(cache.get("child-100")).toBe(100);
    expect(cache.get("child-96")).toBeUndefined();
  });

  it("orders every entry by its last use, through reads, writes and deletes", () => {
    const cache = new LruCache<string, number>(3);
    cache.set("a", 1);
    cache.set("b", 2);
    cache.set("c", 3);
    cache.get("a"); // order: b c a
    cache.set("b", 20); // c a b
    cache.delete("a"); // c b
    cache.set("d", 4); // c b d
    cache.set("e", 5); // b d e: c evicted
    expect(cache.get("c")).toBeUndefined();
    expect([cache.get("b"), cache.get("d"), cache.get("e")]).toEqual([20, 4, 5]);
    cache.set("f", 6); // d e f: b evicted (read first of the three)
    expect(cache.get("b")).toBeUndefined();
    expect(cache.size).toBe(3);
  });
});
