/**
 * Parking a message that can never be processed: it goes, with the reason, to the service's own
 * dead-letter subject (`jetflow.dlq.<service>`, stream JETFLOW_DEAD_LETTERS) for a human to read,
 * so that it neither crashes the service nor blocks its queue.
 */
import { DEAD_LETTER_DELIVERIES_HEADER, DeadLetter, encode, subjects } from "@jetflow/contracts";
import type { JetStreamClient, JsMsg } from "@nats-io/jetstream";
import { headers } from "@nats-io/transport-node";

/** What is parked. */
export interface DeadLetterInput {
  /** The parking service; names the dead-letter subject. */
  service: string;
  /** The subject the message arrived on. */
  subject: string;
  /** The message as received. */
  data: Uint8Array;
  /** Why it cannot be processed (for the human who reads it). */
  reason: string;
  parkedTime: Date;
  /** De-duplicates the letter (see {@link deadLetterMsgId}); none by default. */
  msgId?: string;
  /**
   * How many times the parking service had received the message (a stream message's delivery
   * count); sent in the `Jetflow-Deliveries` header for the dead-letter API. None by default.
   */
  deliveryCount?: number;
}

/**
 * Publishes a DeadLetter and resolves once JetStream has stored it; the caller acks the original
 * message only after that.
 * @throws the publish error (the caller leaves the original message to be redelivered)
 */
export async function publishDeadLetter(js: JetStreamClient, input: DeadLetterInput): Promise<void> {
  const { data } = input;
  const letter: DeadLetter = {
    service: input.service,
    subject: input.subject,
    data: Buffer.from(data.buffer, data.byteOffset, data.byteLength),
    reason: input.reason,
    parkedTime: input.parkedTime,
  };
  const bytes = encode(DeadLetter, letter);
  const subject = subjects.deadLetter(input.service);
  const hdrs = input.deliveryCount === undefined ? undefined : headers();
  hdrs?.set(DEAD_LETTER_DELIVERIES_HEADER, String(input.deliveryCount));
  await js.publish(subject, bytes, {
    ...(input.msgId === undefined ? {} : { msgID: input.msgId }),
    ...(hdrs === undefined ? {} : { headers: hdrs }),
  });
}

/** A msg id that parks a stream message once however often it is redelivered: its stream position. */
export function deadLetterMsgId(service: string, msg: JsMsg): string {
  return `${service}.${msg.info.stream}.${msg.info.streamSequence}`;
}
