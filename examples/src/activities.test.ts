import { silentLogger } from "@jetflow/worker-sdk";
import type { TaskContext } from "@jetflow/worker-sdk";
import {
  EXAMPLE_ACTIVITIES,
  Ledger,
  accountsFor,
  createExampleActivities,
  gatewayOutages,
  mailServerBusy,
  renewalOutages,
} from "./activities";
import { createLatency, stableHash } from "./simulate";

const activities = createExampleActivities({
  log: silentLogger,
  latency: createLatency(0),
  ledger: new Ledger(),
});

function context(attempt = 1): TaskContext {
  return {
    taskToken: "exec-1.5",
    attempt,
    executionId: "exec-1",
    rootExecutionId: "exec-1",
    stateName: "State",
    activity: "activity",
    workflowName: "wf",
    heartbeatIntervalSeconds: 0,
    signal: new AbortController().signal,
    heartbeat: () => Promise.resolve(),
  };
}

async function run(name: string, input: unknown, attempt = 1): Promise<unknown> {
  const handler = activities[name] as unknown as (input: unknown, ctx: TaskContext) => unknown;
  return handler(input, context(attempt));
}

const order = {
  orderId: "ord-1",
  customer: { id: "c", email: "ada@example.com", country: "DE" },
  items: [
    { sku: "book", quantity: 1, unitPrice: 39.9 },
    { sku: "mug", quantity: 2, unitPrice: 12.5 },
  ],
  payment: { cardToken: "tok_visa" },
};

it("hashes text the same way every time (FNV-1a)", () => {
  expect(stableHash("")).toBe(0x811c9dc5);
  expect(stableHash("a")).toBe(0xe40c292c);
});

it("lists every activity by name", () => {
  expect([...EXAMPLE_ACTIVITIES].sort()).toEqual(Object.keys(activities).sort());
  expect(EXAMPLE_ACTIVITIES).not.toContain("approve-expense");
});

describe("order activities", () => {
  it("validates an order and totals it", async () => {
    await expect(run("validate-order", order)).resolves.toEqual({
      total: 64.9,
      currency: "EUR",
      itemCount: 3,
      domestic: true,
    });
  });

  it("rejects an order without items with InvalidOrder", async () => {
    await expect(run("validate-order", { ...order, items: [] })).rejects.toMatchObject({
      name: "InvalidOrder",
      message: "the order has no items",
    });
  });

  it("fails a reservation of a backordered SKU with OutOfStock", async () => {
    await expect(
      run("reserve-inventory", {
        orderId: "o",
        items: [{ sku: "backorder-lamp", quantity: 1, unitPrice: 1 }],
      }),
    ).rejects.toMatchObject({ name: "OutOfStock", message: "not in stock: backorder-lamp" });
  });

  it("fails the charge while the gateway is down, then charges once", async () => {
    const orderId = ["o-1", "o-2", "o-3", "o-4"].find((id) => gatewayOutages(id) === 2)!;
    const input = { orderId, amount: 10, shipping: 4.9, cardToken: "tok_visa" };
    await expect(run("charge-payment", input, 1)).rejects.toMatchObject({
      name: "PaymentGatewayUnavailable",
    });
    await expect(run("charge-payment", input, 2)).rejects.toMatchObject({
      name: "PaymentGatewayUnavailable",
    });
    const charged = await run("charge-payment", input, 3);
    expect(charged).toMatchObject({ amount: 14.9, currency: "EUR" });
    await expect(run("charge-payment", input, 4)).resolves.toEqual(charged);
  });

  it("refunds and releases once when compensating", async () => {
    const orderId = ["c-1", "c-2", "c-3", "c-4"].find((id) => gatewayOutages(id) === 0)!;
    await run("reserve-inventory", { orderId, items: order.items });
    const { chargeId } = (await run("charge-payment", { orderId, amount: 5, cardToken: "t" })) as {
      chargeId: string;
    };
    const first = await run("compensate-order", { orderId });
    expect(first).toEqual({ refunded: { chargeId, amount: 5 }, releasedReservation: expect.any(String) });
    await expect(run("compensate-order", { orderId })).resolves.toEqual({
      refunded: null,
      releasedReservation: null,
    });
  });

  it("cannot ship to a country no carrier serves", async () => {
    await expect(
      run("ship-order", { orderId: "o", country: "AQ", method: "international" }),
    ).rejects.toMatchObject({
      name: "NoCarrierAvailable",
    });
    await expect(
      run("ship-order", { orderId: "o", country: "DE", method: "standard" }),
    ).resolves.toMatchObject({
      carrier: "DHL",
    });
  });
});

describe("invoicing activities", () => {
  it("generates the same accounts for the same count, every 20th without an address", () => {
    const accounts = accountsFor(40);
    expect(accounts).toEqual(accountsFor(40));
    expect(accounts.filter((a) => a.email === null).map((a) => a.accountId)).toEqual([
      "acct-0008",
      "acct-0028",
    ]);
  });

  it("retries a busy mail server only on the first attempt", async () => {
    const busy = accountsFor(40).find((a) => a.email !== null && mailServerBusy(a.accountId, 1))!;
    const input = { accountId: busy.accountId, email: busy.email, invoiceId: "i" };
    await expect(run("deliver-invoice", input, 1)).rejects.toMatchObject({ name: "MailServerBusy" });
    await expect(run("deliver-invoice", input, 2)).resolves.toEqual({ deliveredTo: busy.email });
  });

  it("summarises delivered and undeliverable invoices", async () => {
    const invoices = [
      { status: "delivered", amount: 10.1 },
      { status: "undeliverable", amount: 5.2 },
    ];
    await expect(run("summarise-invoices", { billingPeriod: "2025-10", invoices })).resolves.toEqual({
      billingPeriod: "2025-10",
      invoices: 2,
      delivered: 1,
      undeliverable: 1,
      totalAmount: 15.3,
      currency: "EUR",
    });
  });
});

describe("subscription activities", () => {
  it("charges after the gateway's outages and declines a declined card", async () => {
    const renewal = { subscriptionId: "sub-1", amount: 49, currency: "EUR", cardToken: "tok_visa" };
    const outages = renewalOutages("sub-1");
    await expect(run("charge-card", renewal, outages)).rejects.toMatchObject({
      name: "PaymentGatewayUnavailable",
    });
    await expect(run("charge-card", renewal, outages + 1)).resolves.toMatchObject({
      amount: 49,
      attempts: outages + 1,
    });
    await expect(run("charge-card", { ...renewal, cardToken: "tok_declined" }, 9)).rejects.toMatchObject({
      name: "CardDeclined",
    });
  });
});

describe("approval activities", () => {
  it("asks for approval above the limit only", async () => {
    const expense = { expenseId: "e", amount: 100, currency: "EUR", description: "taxi" };
    await expect(run("record-expense", expense)).resolves.toMatchObject({ needsApproval: false });
    await expect(run("record-expense", { ...expense, amount: 100.01 })).resolves.toMatchObject({
      needsApproval: true,
    });
  });
});
