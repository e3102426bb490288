/** Names the stream behind a subject, so that a failed publish can say which stream had no leader. */
import { streamConfigs } from "../resources";
import { explainJetStreamError } from "./jetstream-problems";

/** Matches a NATS subject against a filter with `*` and a trailing `>`. */
function matches(filter: string, subject: string): boolean {
  const f = filter.split(".");
  const s = subject.split(".");
  for (let i = 0; i < f.length; i++) {
    if (f[i] === ">") return s.length > i;
    if (i >= s.length || (f[i] !== "*" && f[i] !== s[i])) return false;
  }
  return f.length === s.length;
}

/** The jetflow stream whose subjects include `subject`, or undefined. */
export function streamForSubject(subject: string): string | undefined {
  for (const config of Object.values(streamConfigs).map((make) => make())) {
    if (config.subjects?.some((filter) => matches(filter, subject))) return config.name;
  }
  return undefined;
}

/**
 * The error to log for a failed JetStream publish on `subject`: "stream X has no leader" when
 * nobody answered (nats.js says "jetstream is not enabled"), else `err` itself.
 */
export function explainPublishError(err: unknown, subject: string): unknown {
  const stream = streamForSubject(subject);
  return stream === undefined ? err : explainJetStreamError(err, stream);
}
