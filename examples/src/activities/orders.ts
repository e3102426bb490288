/**
 * Activities of the order fulfilment example (workflows/order-fulfilment.asl.yaml): validate,
 * quote shipping, reserve stock and charge the card in parallel, ship, notify; and the
 * compensation that undoes a reservation and a charge when a later step fails.
 */
import type { TaskContext, TaskHandler } from "@jetflow/worker-sdk";
import { aslError, cents, stableHash } from "../simulate";
import type { ActivityDeps } from "./deps";

export interface OrderItem {
  sku: string;
  quantity: number;
  unitPrice: number;
}

export interface Order {
  orderId: string;
  customer: { id: string; email: string; country: string };
  items: OrderItem[];
  payment: { cardToken: string };
}

/** Countries no carrier delivers to: shipping there fails with `NoCarrierAvailable`. */
export const UNSERVED_COUNTRIES: readonly string[] = ["AQ"];

/** Card token the simulated provider always declines (`PaymentDeclined`). */
export const DECLINED_CARD = "tok_declined";

/** SKUs starting with this are out of stock (`OutOfStock`). */
export const BACKORDER_PREFIX = "backorder-";

/**
 * How many times the payment gateway is unavailable for an order before a charge goes through:
 * 0, 1 or 2, fixed per order id. The order fulfilment workflow retries up to 3 times.
 */
export function gatewayOutages(orderId: string): number {
  return stableHash(`gateway:${orderId}`) % 3;
}

const EU = new Set(["AT", "BE", "DE", "DK", "ES", "FI", "FR", "IE", "IT", "NL", "PL", "PT", "SE"]);

/** The order fulfilment activities by name. */
export function orderActivities({ log, latency, ledger }: ActivityDeps): Record<string, TaskHandler<never>> {
  const validateOrder: TaskHandler<Order> = async (order, ctx) => {
    await latency.wait(150, order.orderId, ctx.signal);
    const problems: string[] = [];
    if (typeof order.orderId !== "string" || order.orderId === "") problems.push("orderId is missing");
    if (!Array.isArray(order.items) || order.items.length === 0) problems.push("the order has no items");
    for (const [i, item] of (order.items ?? []).entries()) {
      if (!Number.isInteger(item.quantity) || item.quantity <= 0)
        problems.push(`items[${i}].quantity must be a positive integer`);
      if (typeof item.unitPrice !== "number" || item.unitPrice < 0)
        problems.push(`items[${i}].unitPrice must be a non-negative number`);
    }
    if (!/^[^@\s]+@[^@\s]+$/.test(order.customer?.email ?? ""))
      problems.push("customer.email is not an address");
    if (problems.length > 0) throw aslError("InvalidOrder", problems.join("; "));
    const total = cents(order.items.reduce((sum, item) => sum + item.quantity * item.unitPrice, 0));
    const itemCount = order.items.reduce((sum, item) => sum + item.quantity, 0);
    log.info({ orderId: order.orderId, total, itemCount }, "order validated");
    return { total, currency: "EUR", itemCount, domestic: EU.has(order.customer.country) };
  };

  const quoteShipping: TaskHandler<{ orderId: string; country: string; itemCount: number }> = async (
    input,
    ctx,
  ) => {
    await latency.wait(200, input.orderId, ctx.signal);
    const international = !EU.has(input.country);
    const cost = cents((international ? 24.9 : 4.9) + input.itemCount * (international ? 2 : 0.5));
    return { method: international ? "international" : "standard", cost, currency: "EUR" };
  };

  const reserveInventory: TaskHandler<{ orderId: string; items: OrderItem[] }> = async (input, ctx) => {
    await latency.wait(300, input.orderId, ctx.signal);
    const missing = input.items.filter((item) => item.sku.startsWith(BACKORDER_PREFIX));
    if (missing.length > 0) {
      throw aslError("OutOfStock", `not in stock: ${missing.map((item) => item.sku).join(", ")}`);
    }
    const reservationId = ledger.reserve(input.orderId, `res-${stableHash(input.orderId).toString(16)}`);
    log.info({ orderId: input.orderId, reservationId }, "stock reserved");
    return { reservationId, warehouse: "FRA-1" };
  };

  const chargePayment: TaskHandler<{
    orderId: string;
    amount: number;
    shipping?: number;
    cardToken: string;
  }> = async (input, ctx: TaskContext) => {
    await latency.wait(400, `${input.orderId}:${ctx.attempt}`, ctx.signal);
    if (ctx.attempt <= gatewayOutages(input.orderId)) {
      log.warn({ orderId: input.orderId, attempt: ctx.attempt }, "payment gateway unavailable");
      throw aslError("PaymentGatewayUnavailable", `payment gateway did not answer (attempt ${ctx.attempt})`);
    }
    if (input.cardToken === DECLINED_CARD)
      throw aslError("PaymentDeclined", "the card issuer declined the charge");
    const amount = cents(input.amount + (input.shipping ?? 0));
    const charge = ledger.charge(
      input.orderId,
      `ch-${stableHash(`charge:${input.orderId}`).toString(16)}`,
      amount,
    );
    log.info({ orderId: input.orderId, ...charge }, "payment charged");
    return { ...charge, currency: "EUR" };
  };

  const shipOrder: TaskHandler<{ orderId: string; country: string; method: string }> = async (input, ctx) => {
    // A long task reports progress so the engine knows it is alive (HeartbeatSeconds).
    for (const step of ["picking", "packing", "handing over"]) {
      await latency.wait(250, `${input.orderId}:${step}`, ctx.signal);
      await ctx.heartbeat();
    }
    if (UNSERVED_COUNTRIES.includes(input.country)) {
      throw aslError("NoCarrierAvailable", `no carrier delivers to "${input.country}"`);
    }
    const trackingNumber = `JF${stableHash(`ship:${input.orderId}`).toString().padStart(10, "0")}`;
    log.info({ orderId: input.orderId, trackingNumber }, "order shipped");
    return { carrier: input.method === "international" ? "GlobalPost" : "DHL", trackingNumber };
  };

  const compensateOrder: TaskHandler<{ orderId: string; reason?: { Error?: string } }> = async (
    input,
    ctx,
  ) => {
    await latency.wait(200, input.orderId, ctx.signal);
    // Idempotent by order id: a redelivered compensation refunds and releases nothing twice.
    const refund = ledger.refund(input.orderId);
    const released = ledger.release(input.orderId);
    log.info({ orderId: input.orderId, refund, released, reason: input.reason?.Error }, "order compensated");
    return {
      refunded: refund ? { chargeId: refund.chargeId, amount: refund.amount } : null,
      releasedReservation: released ?? null,
    };
  };

  return {
    "validate-order": validateOrder,
    "quote-shipping": quoteShipping,
    "reserve-inventory": reserveInventory,
    "charge-payment": chargePayment,
    "ship-order": shipOrder,
    "compensate-order": compensateOrder,
  };
}
