/**
 * Activities of the flaky payment example (workflows/subscription-renewal.asl.yaml): charge the
 * card through a payment gateway that is often briefly unavailable (retried with back-off), then
 * extend the subscription, or mark it past due when the card is declined.
 */
import type { TaskContext, TaskHandler } from "@jetflow/worker-sdk";
import { aslError, stableHash } from "../simulate";
import type { ActivityDeps } from "./deps";

export interface Renewal {
  subscriptionId: string;
  customer: { id: string; email: string };
  plan: string;
  amount: number;
  currency: string;
  cardToken: string;
}

/** Card token the simulated provider always declines (`CardDeclined`). */
export const DECLINED_CARD_TOKEN = "tok_declined";

/**
 * How many attempts fail with `PaymentGatewayUnavailable` before the charge goes through: 1, 2 or 3,
 * fixed per subscription id. The workflow retries up to 4 times with back-off.
 */
export function renewalOutages(subscriptionId: string): number {
  return 1 + (stableHash(`renewal:${subscriptionId}`) % 3);
}

/** The subscription activities by name. */
export function subscriptionActivities({
  log,
  latency,
  ledger,
}: ActivityDeps): Record<string, TaskHandler<never>> {
  const chargeCard: TaskHandler<Renewal> = async (input, ctx: TaskContext) => {
    await latency.wait(300, `${input.subscriptionId}:${ctx.attempt}`, ctx.signal);
    if (ctx.attempt <= renewalOutages(input.subscriptionId)) {
      log.warn({ subscriptionId: input.subscriptionId, attempt: ctx.attempt }, "payment gateway unavailable");
      throw aslError("PaymentGatewayUnavailable", `503 from the payment gateway (attempt ${ctx.attempt})`);
    }
    if (input.cardToken === DECLINED_CARD_TOKEN) throw aslError("CardDeclined", "insufficient funds");
    // The idempotency key is the subscription and period, so a retried charge never bills twice.
    const charge = ledger.charge(
      `${input.subscriptionId}:${ctx.executionId}`,
      `ch-${stableHash(`${input.subscriptionId}:${ctx.executionId}`).toString(16)}`,
      input.amount,
    );
    log.info({ subscriptionId: input.subscriptionId, attempt: ctx.attempt, ...charge }, "card charged");
    return { ...charge, currency: input.currency, attempts: ctx.attempt };
  };

  const extendSubscription: TaskHandler<{ subscriptionId: string; months?: number }> = async (input, ctx) => {
    await latency.wait(100, input.subscriptionId, ctx.signal);
    return { subscriptionId: input.subscriptionId, status: "active", months: input.months ?? 1 };
  };

  const markPastDue: TaskHandler<{
    subscriptionId: string;
    reason?: { Error?: string; Cause?: string };
  }> = async (input, ctx) => {
    await latency.wait(100, input.subscriptionId, ctx.signal);
    log.info({ subscriptionId: input.subscriptionId, reason: input.reason?.Error }, "subscription past due");
    return {
      subscriptionId: input.subscriptionId,
      status: "past_due",
      reason: input.reason?.Error ?? "unknown",
    };
  };

  return {
    "charge-card": chargeCard,
    "extend-subscription": extendSubscription,
    "mark-past-due": markPastDue,
  };
}
