/** The notification activity every example uses to tell people what happened. */
import type { TaskHandler } from "@jetflow/worker-sdk";
import { aslError, stableHash } from "../simulate";
import type { ActivityDeps } from "./deps";

export interface Notification {
  /** Which message to send, e.g. `order-shipped`. */
  template: string;
  /** Recipient e-mail address. */
  to: string;
  /** Values the template shows. */
  data?: unknown;
}

/** `send-notification`: "sends" an e-mail and returns its message id (the same for the same message). */
export function notificationActivities({ log, latency }: ActivityDeps): Record<string, TaskHandler<never>> {
  const sendNotification: TaskHandler<Notification> = async (input, ctx) => {
    if (typeof input.template !== "string" || typeof input.to !== "string" || !input.to.includes("@")) {
      throw aslError("InvalidNotification", "a notification needs a template and an address in `to`");
    }
    await latency.wait(100, `${input.template}:${input.to}`, ctx.signal);
    const messageId = `msg-${stableHash(`${ctx.executionId}:${input.template}:${input.to}`).toString(16)}`;
    log.info({ template: input.template, messageId }, "notification sent");
    return { messageId, template: input.template };
  };
  return { "send-notification": sendNotification };
}
