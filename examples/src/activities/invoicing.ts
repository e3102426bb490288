/**
 * Activities of the batch example (workflows/monthly-invoicing.asl.yaml): list the accounts to
 * bill, then for each account (a Map with MaxConcurrency) generate and deliver an invoice, and
 * finally summarise the run.
 */
import type { TaskContext, TaskHandler } from "@jetflow/worker-sdk";
import { aslError, cents, stableHash } from "../simulate";
import type { ActivityDeps } from "./deps";

export interface Account {
  accountId: string;
  plan: "starter" | "team" | "enterprise";
  usageUnits: number;
  /** Where the invoice goes; null for accounts without a billing address. */
  email: string | null;
}

const PLANS = { starter: 9, team: 49, enterprise: 399 } as const;
const UNIT_PRICE = 0.02;

/** The accounts of a billing run, generated from their index: every 20th has no billing address. */
export function accountsFor(count: number): Account[] {
  return Array.from({ length: count }, (_, i) => {
    const accountId = `acct-${String(i + 1).padStart(4, "0")}`;
    const plans = Object.keys(PLANS) as Account["plan"][];
    return {
      accountId,
      plan: plans[stableHash(accountId) % plans.length] as Account["plan"],
      usageUnits: stableHash(`usage:${accountId}`) % 5000,
      email: i % 20 === 7 ? null : `billing@${accountId}.example.com`,
    };
  });
}

/** Whether the mail server is busy on the first delivery attempt of `accountId` (about one in five). */
export function mailServerBusy(accountId: string, attempt: number): boolean {
  return attempt === 1 && stableHash(`mail:${accountId}`) % 5 === 0;
}

/** The invoicing activities by name. */
export function invoicingActivities({ log, latency }: ActivityDeps): Record<string, TaskHandler<never>> {
  const listAccounts: TaskHandler<{ billingPeriod: string; accountCount: number }> = async (input, ctx) => {
    if (!/^\d{4}-\d{2}$/.test(input.billingPeriod ?? "")) {
      throw aslError(
        "InvalidBillingPeriod",
        `billingPeriod must look like 2025-01, got ${JSON.stringify(input.billingPeriod)}`,
      );
    }
    const count = input.accountCount ?? 50;
    if (!Number.isInteger(count) || count < 0 || count > 10_000) {
      throw aslError("InvalidBillingPeriod", "accountCount must be an integer from 0 to 10000");
    }
    await latency.wait(300, input.billingPeriod, ctx.signal);
    log.info({ billingPeriod: input.billingPeriod, count }, "accounts listed");
    return { accounts: accountsFor(count) };
  };

  const generateInvoice: TaskHandler<Account & { billingPeriod: string }> = async (input, ctx) => {
    await latency.wait(150, input.accountId, ctx.signal);
    const amount = cents(PLANS[input.plan] + input.usageUnits * UNIT_PRICE);
    const invoiceId = `inv-${input.billingPeriod}-${input.accountId}`;
    return { invoiceId, amount, currency: "EUR" };
  };

  const deliverInvoice: TaskHandler<{ accountId: string; email: string | null; invoiceId: string }> = async (
    input,
    ctx: TaskContext,
  ) => {
    await latency.wait(200, `${input.accountId}:${ctx.attempt}`, ctx.signal);
    if (input.email === null)
      throw aslError("NoBillingAddress", `account "${input.accountId}" has no billing address`);
    if (mailServerBusy(input.accountId, ctx.attempt)) throw aslError("MailServerBusy", "421 try again later");
    return { deliveredTo: input.email };
  };

  const summariseInvoices: TaskHandler<{
    billingPeriod: string;
    invoices: Array<{ status: string; amount: number }>;
  }> = async (input, ctx) => {
    await latency.wait(100, input.billingPeriod, ctx.signal);
    const delivered = input.invoices.filter((invoice) => invoice.status === "delivered");
    const summary = {
      billingPeriod: input.billingPeriod,
      invoices: input.invoices.length,
      delivered: delivered.length,
      undeliverable: input.invoices.length - delivered.length,
      totalAmount: cents(input.invoices.reduce((sum, invoice) => sum + invoice.amount, 0)),
      currency: "EUR",
    };
    log.info(summary, "billing run summarised");
    return summary;
  };

  return {
    "list-accounts": listAccounts,
    "generate-invoice": generateInvoice,
    "deliver-invoice": deliverInvoice,
    "summarise-invoices": summariseInvoices,
  };
}
