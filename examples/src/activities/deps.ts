import type { Logger } from "@jetflow/worker-sdk";
import type { Latency } from "../simulate";

/** What every example activity is built with. */
export interface ActivityDeps {
  /** Where activities say what they did (one line per task). */
  log: Logger;
  /** Simulated latency of the systems the activities stand for. */
  latency: Latency;
  /** The simulated payment provider and warehouse, shared by the activities of one worker. */
  ledger: Ledger;
}

/**
 * The simulated payment provider and warehouse: charges and stock reservations by order, so the
 * compensation step can undo what was done. It lives in the worker's memory: with several worker
 * processes each has its own, which is enough for an example.
 */
export class Ledger {
  private readonly charges = new Map<string, { chargeId: string; amount: number; refunded: boolean }>();
  private readonly reservations = new Map<string, { reservationId: string; released: boolean }>();

  /** Records a charge for `key`; charging the same key again returns the first charge (idempotency key). */
  charge(key: string, chargeId: string, amount: number): { chargeId: string; amount: number } {
    const existing = this.charges.get(key);
    if (existing) return { chargeId: existing.chargeId, amount: existing.amount };
    this.charges.set(key, { chargeId, amount, refunded: false });
    return { chargeId, amount };
  }

  /** Refunds the charge of `key`, once; undefined when there is nothing to refund. */
  refund(key: string): { chargeId: string; amount: number } | undefined {
    const charge = this.charges.get(key);
    if (!charge || charge.refunded) return undefined;
    charge.refunded = true;
    return { chargeId: charge.chargeId, amount: charge.amount };
  }

  /** Records a stock reservation for `key` (idempotent). */
  reserve(key: string, reservationId: string): string {
    const existing = this.reservations.get(key);
    if (existing) return existing.reservationId;
    this.reservations.set(key, { reservationId, released: false });
    return reservationId;
  }

  /** Releases the reservation of `key`, once; undefined when there is none. */
  release(key: string): string | undefined {
    const reservation = this.reservations.get(key);
    if (!reservation || reservation.released) return undefined;
    reservation.released = true;
    return reservation.reservationId;
  }
}
