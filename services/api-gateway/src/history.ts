/**
 * Pages of an execution's history, read from JETFLOW_EVENTS without reading all of it. Event ids
 * are consecutive from 1 and each stored batch holds consecutive events, so a page token names a
 * stream sequence to resume from and the next event id:
 * - forward: read the batches from that sequence on, stop after the page (plus one event, to know
 *   whether another page follows);
 * - reverse: read windows of the stream ending at that sequence, each four times the previous
 *   (an execution's batches are spread among everyone else's), until the page is full.
 */
import { EventBatch, HistoryEvent, decode, encode, streams, subjects } from "@jetflow/contracts";
import { readEventBatches } from "@jetflow/service-runtime";
import { jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { ApiError } from "./errors";

/** A page of events and the token of the next one ("" when there is none). */
export interface HistoryPage {
  events: HistoryEvent[];
  nextPageToken: string;
}

/** Options of `readHistoryPage`. */
export interface HistoryPageRequest {
  executionId: string;
  pageSize: number;
  pageToken: string;
  reverse: boolean;
  /** Stop adding events once the page's encoded size passes this (at least one event is sent). */
  maxBytes: number;
}

interface Position {
  /** Forward: the first stream sequence to read. Reverse: the last one. */
  seq: number;
  /** Forward: the first event id to return. Reverse: the highest. */
  eventId: number;
}

/** Stream sequences in the first reverse window; each next window is four times larger. */
const FIRST_WINDOW = 256;

function encodeToken(reverse: boolean, executionId: string, p: Position): string {
  return Buffer.from(`${reverse ? "r" : "f"}:${p.seq}:${p.eventId}:${executionId}`).toString("base64url");
}

function decodeToken(token: string, reverse: boolean, executionId: string): Position | undefined {
  if (token === "") return undefined;
  const match = /^([fr]):(\d{1,16}):(\d{1,16}):(.+)$/.exec(Buffer.from(token, "base64url").toString());
  if (match === null || match[4] !== executionId || (match[1] === "r") !== reverse) {
    throw ApiError.invalid(`page_token: invalid page token "${token.slice(0, 100)}" for this request`);
  }
  return { seq: Number(match[2]), eventId: Number(match[3]) };
}

/**
 * One page of the history of `executionId`.
 * @throws ApiError NOT_FOUND when the execution has no events, INVALID_ARGUMENT for a bad token
 */
export async function readHistoryPage(nc: NatsConnection, r: HistoryPageRequest): Promise<HistoryPage> {
  const from = decodeToken(r.pageToken, r.reverse, r.executionId);
  const page = r.reverse ? await readBackward(nc, r, from) : await readForward(nc, r, from);
  if (page.events.length === 0 && r.pageToken === "") {
    throw ApiError.notFound(`execution "${r.executionId}" does not exist`);
  }
  return page;
}

async function readForward(nc: NatsConnection, r: HistoryPageRequest, from: Position | undefined) {
  const firstId = from?.eventId ?? 1;
  const events: HistoryEvent[] = [];
  let bytes = 0;
  for await (const { batch, seq } of readEventBatches(nc, r.executionId, (from?.seq ?? 1) - 1)) {
    for (const event of batch.events) {
      if (event.eventId < firstId) continue;
      const size = encode(HistoryEvent, event).length;
      if (events.length >= r.pageSize || (events.length > 0 && bytes + size > r.maxBytes)) {
        // Leaving the loop ends the read: no further batch is requested.
        return { events, nextPageToken: encodeToken(false, r.executionId, { seq, eventId: event.eventId }) };
      }
      events.push(event);
      bytes += size;
    }
  }
  return { events, nextPageToken: "" };
}

async function readBackward(nc: NatsConnection, r: HistoryPageRequest, from: Position | undefined) {
  let position = from ?? (await lastPosition(nc, r.executionId));
  const events: HistoryEvent[] = [];
  if (position === undefined) return { events, nextPageToken: "" };
  let bytes = 0;
  let window = FIRST_WINDOW;
  let hi = position.seq;
  while (hi >= 1 && position.eventId >= 1) {
    const lo = Math.max(1, hi - window + 1);
    const batches: Array<{ batch: EventBatch; seq: number }> = [];
    for await (const stored of readEventBatches(nc, r.executionId, lo - 1)) {
      if (stored.seq > hi) break;
      batches.push(stored);
    }
    for (const { batch, seq } of batches.reverse()) {
      for (let i = batch.events.length - 1; i >= 0; i--) {
        const event = batch.events[i] as HistoryEvent;
        if (event.eventId > position.eventId) continue;
        const size = encode(HistoryEvent, event).length;
        if (events.length >= r.pageSize || (events.length > 0 && bytes + size > r.maxBytes)) {
          return { events, nextPageToken: encodeToken(true, r.executionId, { seq, eventId: event.eventId }) };
        }
        events.push(event);
        bytes += size;
        position = { seq, eventId: event.eventId - 1 };
      }
    }
    hi = lo - 1;
    window *= 4;
  }
  return { events, nextPageToken: "" };
}

/** Where a reverse read starts: the last batch of the execution and its last event. */
async function lastPosition(nc: NatsConnection, executionId: string): Promise<Position | undefined> {
  const jsm = await jetstreamManager(nc, { checkAPI: false });
  const last = await jsm.streams.getMessage(streams.events, { last_by_subj: subjects.events(executionId) });
  if (last === null) return undefined;
  const batch = decode(EventBatch, "EventBatch", last.data, last.subject);
  const lastEvent = batch.events[batch.events.length - 1];
  return lastEvent === undefined ? undefined : { seq: last.seq, eventId: lastEvent.eventId };
}
