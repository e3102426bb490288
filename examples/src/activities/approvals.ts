/**
 * Activities of the approval example (workflows/expense-approval.asl.yaml). The approval itself has
 * no worker: the Task for activity {@link APPROVAL_ACTIVITY} waits until someone answers with its
 * task token (`jetflow task success <token> --output '{"approved":true}'`) or its timeout passes.
 */
import type { TaskHandler } from "@jetflow/worker-sdk";
import { aslError, stableHash } from "../simulate";
import type { ActivityDeps } from "./deps";

/** The activity a person completes through SendTaskSuccess / SendTaskFailure; no worker runs it. */
export const APPROVAL_ACTIVITY = "approve-expense";

/** Expenses up to this amount are approved without asking anyone. */
export const AUTO_APPROVAL_LIMIT = 100;

export interface Expense {
  expenseId: string;
  employee: { id: string; email: string; manager: string };
  amount: number;
  currency: string;
  description: string;
}

/** The expense activities by name. */
export function approvalActivities({ log, latency }: ActivityDeps): Record<string, TaskHandler<never>> {
  const recordExpense: TaskHandler<Expense> = async (input, ctx) => {
    if (typeof input.amount !== "number" || input.amount <= 0) {
      throw aslError("InvalidExpense", "amount must be a positive number");
    }
    await latency.wait(150, input.expenseId, ctx.signal);
    const needsApproval = input.amount > AUTO_APPROVAL_LIMIT;
    log.info({ expenseId: input.expenseId, amount: input.amount, needsApproval }, "expense recorded");
    return { recordId: `exp-${stableHash(input.expenseId).toString(16)}`, needsApproval };
  };

  const escalateExpense: TaskHandler<{ expenseId: string; manager: string }> = async (input, ctx) => {
    await latency.wait(100, input.expenseId, ctx.signal);
    log.info({ expenseId: input.expenseId, manager: input.manager }, "approval escalated to finance");
    return { approved: false, decidedBy: "finance", reason: `no answer from ${input.manager} in time` };
  };

  const reimburseExpense: TaskHandler<{ expenseId: string; amount: number; currency: string }> = async (
    input,
    ctx,
  ) => {
    await latency.wait(250, input.expenseId, ctx.signal);
    const payoutId = `po-${stableHash(`payout:${input.expenseId}`).toString(16)}`;
    log.info({ expenseId: input.expenseId, payoutId }, "expense reimbursed");
    return { payoutId, amount: input.amount, currency: input.currency };
  };

  return {
    "record-expense": recordExpense,
    "escalate-expense": escalateExpense,
    "reimburse-expense": reimburseExpense,
  };
}
