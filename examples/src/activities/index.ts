import { silentLogger } from "@jetflow/worker-sdk";
import type { TaskHandler } from "@jetflow/worker-sdk";
import { createLatency } from "../simulate";
import { approvalActivities } from "./approvals";
import { Ledger } from "./deps";
import type { ActivityDeps } from "./deps";
import { invoicingActivities } from "./invoicing";
import { notificationActivities } from "./notifications";
import { orderActivities } from "./orders";
import { subscriptionActivities } from "./subscriptions";

/** Every activity the example workflows need a worker for, by name. */
export function createExampleActivities(deps: ActivityDeps): Record<string, TaskHandler<never>> {
  return {
    ...orderActivities(deps),
    ...invoicingActivities(deps),
    ...subscriptionActivities(deps),
    ...approvalActivities(deps),
    ...notificationActivities(deps),
  };
}

/** The names of every activity {@link createExampleActivities} handles. */
export const EXAMPLE_ACTIVITIES: readonly string[] = Object.freeze(
  Object.keys(
    createExampleActivities({ log: silentLogger, latency: createLatency(0), ledger: new Ledger() }),
  ),
);

export { Ledger } from "./deps";
export type { ActivityDeps } from "./deps";
export { APPROVAL_ACTIVITY, AUTO_APPROVAL_LIMIT } from "./approvals";
export { BACKORDER_PREFIX, DECLINED_CARD, UNSERVED_COUNTRIES, gatewayOutages } from "./orders";
export { accountsFor, mailServerBusy } from "./invoicing";
export { DECLINED_CARD_TOKEN, renewalOutages } from "./subscriptions";
