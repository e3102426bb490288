import type { JetStreamClient, JsMsg } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { explainPublishError, traceHeaders } from "@jetflow/contracts/internal";
import type { Effect } from "@jetflow/engine";
import { deadLetterMsgId, publishDeadLetter } from "@jetflow/service-runtime";

/** The service name on dead letters and in the dead-letter subject. */
export const SERVICE = "dispatcher";

/**
 * Performs effects concurrently (publishes are pipelined, not one at a time) and resolves once
 * JetStream has acknowledged every JetStream publish; core publishes are fire and forget.
 * Resolves to the number of publishes the server dropped as duplicates. `traceParent` (the
 * execution's, when it is traced) goes along as the `traceparent` header of each JetStream publish.
 * @throws the first publish error (the caller NAKs the message and everything is re-sent)
 */
export async function performEffects(
  js: JetStreamClient,
  nc: NatsConnection,
  effects: readonly Effect[],
  traceParent?: string,
): Promise<number> {
  const headers = traceHeaders(traceParent);
  const acks = await Promise.all(
    effects.map(async (effect) => {
      if (effect.kind === "core") {
        nc.publish(effect.subject, effect.bytes);
        return false;
      }
      try {
        const ack = await js.publish(effect.subject, effect.bytes, { msgID: effect.msgId, headers });
        return ack.duplicate;
      } catch (err) {
        throw explainPublishError(err, effect.subject);
      }
    }),
  );
  return acks.filter(Boolean).length;
}

/**
 * Parks a message that cannot be processed on the dispatcher's dead-letter subject, de-duplicated
 * by its stream position, and resolves once JetStream has it.
 */
export async function parkDeadLetter(js: JetStreamClient, msg: JsMsg, reason: string): Promise<void> {
  await publishDeadLetter(js, {
    service: SERVICE,
    subject: msg.subject,
    data: msg.data,
    reason,
    parkedTime: new Date(),
    msgId: deadLetterMsgId(SERVICE, msg),
    deliveryCount: msg.info.deliveryCount,
  });
}
