/**
 * Whether NATS is reachable right now: false from a disconnect until the reconnect, so calls fail
 * fast with UNAVAILABLE instead of waiting for a request timeout.
 */
import type { NatsConnection } from "@nats-io/transport-node";

/** The connection state as the gateway sees it. */
export interface ConnectionState {
  connected(): boolean;
  /** Called with the new state on every change. */
  onChange(listener: (connected: boolean) => void): void;
}

/** Follows `nc.status()` until the connection closes. */
export function trackConnection(nc: NatsConnection): ConnectionState {
  let up = true;
  const listeners: Array<(connected: boolean) => void> = [];
  const set = (value: boolean) => {
    if (value === up) return;
    up = value;
    for (const listener of listeners) listener(value);
  };
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === "disconnect") set(false);
      else if (s.type === "reconnect") set(true);
    }
  })();
  void nc.closed().then(() => set(false));
  return {
    connected: () => up && !nc.isClosed(),
    onChange: (listener) => listeners.push(listener),
  };
}
