/**
 * The messages a loop holds (delivered, not yet acked, NAKed or terminated), kept alive with
 * in-progress acks so that a short ack wait only ever fires for messages whose holder died.
 */
import type { JsMsg } from "@nats-io/jetstream";

/** The calls that settle a message: after one of them the server no longer waits for us. */
const SETTLING = new Set<PropertyKey>(["ack", "ackAck", "nak", "term"]);

/** Delivered messages not yet settled, with their delivery time. */
export class HeldMessages {
  private readonly held = new Map<JsMsg, number>();
  private released: (() => void) | undefined;

  /** How many messages are held now. */
  get size(): number {
    return this.held.size;
  }

  /**
   * Starts holding `msg` and returns the message to hand to the handler: the same message, whose
   * ack, ackAck, nak and term also release it here.
   */
  hold(msg: JsMsg, nowMs: number): JsMsg {
    this.held.set(msg, nowMs);
    return new Proxy(msg, {
      get: (target, prop) => {
        const value: unknown = Reflect.get(target, prop, target);
        if (typeof value !== "function") return value;
        const method = value as (...args: unknown[]) => unknown;
        if (!SETTLING.has(prop)) return method.bind(target);
        return (...args: unknown[]) => {
          this.release(target);
          return method.apply(target, args);
        };
      },
    });
  }

  /** Stops holding `msg` (idempotent). */
  release(msg: JsMsg): void {
    if (!this.held.delete(msg)) return;
    const wake = this.released;
    this.released = undefined;
    wake?.();
  }

  /** True while `msg` is held. */
  has(msg: JsMsg): boolean {
    return this.held.has(msg);
  }

  /** Resolves once fewer than `limit` messages are held, or when `signal` aborts. */
  async belowLimit(limit: number, signal?: AbortSignal): Promise<void> {
    while (this.held.size >= limit && !signal?.aborted) await this.nextRelease(signal);
  }

  /**
   * Sends an in-progress ack for every message held longer than `afterMs`, and gives up on those
   * held longer than `maxHoldMs` (released without a word to the server, so that their ack wait
   * runs out and they are redelivered). Returns the messages given up on.
   */
  keepAlive(nowMs: number, afterMs: number, maxHoldMs: number): JsMsg[] {
    const abandoned: JsMsg[] = [];
    for (const [msg, since] of this.held) {
      const heldMs = nowMs - since;
      if (heldMs > maxHoldMs) abandoned.push(msg);
      else if (heldMs >= afterMs) msg.working();
    }
    for (const msg of abandoned) this.release(msg);
    return abandoned;
  }

  /** Resolves once nothing is held or `signal` aborts. */
  async drained(signal?: AbortSignal): Promise<void> {
    while (this.held.size > 0 && !signal?.aborted) await this.nextRelease(signal);
  }

  private nextRelease(signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      const previous = this.released;
      this.released = () => {
        previous?.();
        resolve();
      };
      signal?.addEventListener("abort", () => resolve(), { once: true });
    });
  }
}
