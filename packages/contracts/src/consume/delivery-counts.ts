/**
 * Per-process counts of the messages the durable consume loop delivered, per stream and consumer,
 * so that a process's metrics can report deliveries and redeliveries without each service
 * wrapping its handlers. Module state on purpose: one process, one set of counts, like
 * Prometheus's own registry of process metrics.
 */

/** What one consumer's loops delivered in this process since it started. */
export interface DeliveryCount {
  readonly stream: string;
  readonly consumer: string;
  /** Messages handed to the handler, redeliveries included. */
  delivered: number;
  /** Of those, messages the server had delivered before (a lost ack, a NAK, a dead holder). */
  redelivered: number;
}

const counts = new Map<string, DeliveryCount>();

/** Records one delivery to the handler of `consumer` on `stream`. @internal */
export function countDelivery(stream: string, consumer: string, redelivered: boolean): void {
  const key = `${stream}\u0000${consumer}`;
  let count = counts.get(key);
  if (!count) counts.set(key, (count = { stream, consumer, delivered: 0, redelivered: 0 }));
  count.delivered += 1;
  if (redelivered) count.redelivered += 1;
}

/** A copy of the delivery counts of every consumer this process has pulled from. */
export function deliveryCounts(): DeliveryCount[] {
  return [...counts.values()].map((count) => ({ ...count }));
}
