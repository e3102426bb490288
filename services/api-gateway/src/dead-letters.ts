/**
 * The dead-letter API: list, read, replay and discard the messages services parked on
 * JETFLOW_DEAD_LETTERS (`publishDeadLetter` in the service runtime). A letter's id is its stream
 * sequence. Replaying publishes the parked bytes again on their original subject with a
 * `Nats-Msg-Id` derived from the letter, then deletes the letter: a retried replay within the
 * duplicate window is dropped by the server, and one after the letter is gone finds nothing.
 */
import {
  Command,
  DEAD_LETTER_DELIVERIES_HEADER,
  DeadLetter,
  EventBatch,
  Task,
  TaskResult,
  Timer,
  decode,
  deadLetterReplayMsgId,
  deadLetterSubjectInfo,
  streams,
  subjects,
} from "@jetflow/contracts";
import type {
  DeadLetterInfo,
  DeadLetterKind,
  GetDeadLetterResponse,
  ListDeadLettersResponse,
  MessageType,
  ReplayDeadLetterResponse,
} from "@jetflow/contracts";
import type { JetStreamClient, JetStreamManager, MsgRequest, StoredMsg } from "@nats-io/jetstream";
import { ApiError, RequestProblems } from "./errors";

/** What ListDeadLetters filters on; empty strings match everything. */
export interface DeadLetterFilter {
  service: string;
  subjectPrefix: string;
  reasonContains: string;
}

/** Most letters read from the stream for one page, so that a narrow filter cannot scan forever. */
const MAX_SCANNED_PER_PAGE = 5_000;

type JsonMessageType = MessageType<unknown> & { toJSON(message: unknown): unknown };

// The message types whose JSON GetDeadLetter shows, by kind.
const PAYLOAD_TYPES: Partial<Record<DeadLetterKind, { type: JsonMessageType; name: string }>> = {
  command: { type: Command as JsonMessageType, name: "Command" },
  task: { type: Task as JsonMessageType, name: "Task" },
  result: { type: TaskResult as JsonMessageType, name: "TaskResult" },
  timer: { type: Timer as JsonMessageType, name: "Timer" },
  "event-batch": { type: EventBatch as JsonMessageType, name: "EventBatch" },
};

/** The dead-letter operations over one JetStream connection. */
export class DeadLetters {
  constructor(
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
  ) {}

  /** A page of letters matching `filter`, oldest first; the page token is the next sequence. */
  async list(
    filter: DeadLetterFilter,
    pageSize: number,
    pageToken: string,
  ): Promise<ListDeadLettersResponse> {
    const problems = new RequestProblems();
    const from = pageToken === "" ? 1 : Number(pageToken);
    if (!Number.isSafeInteger(from) || from < 1) {
      problems.add("page_token", `invalid page token "${pageToken.slice(0, 100)}"`);
    }
    if (filter.service !== "" && !/^[A-Za-z0-9_-]+$/.test(filter.service)) {
      problems.add("service", `invalid service name "${filter.service.slice(0, 100)}"`);
    }
    problems.check();
    const subject = filter.service === "" ? subjects.allDeadLetters : subjects.deadLetter(filter.service);
    const found: DeadLetterInfo[] = [];
    let seq = from;
    for (let scanned = 0; scanned < MAX_SCANNED_PER_PAGE; scanned++) {
      const msg = await this.jsm.streams.getMessage(streams.deadLetters, {
        seq,
        next_by_subj: subject,
      } as unknown as MsgRequest);
      if (msg === null) return { deadLetters: found, nextPageToken: "" };
      seq = msg.seq + 1;
      const letter = readLetter(msg);
      if (letter === undefined) continue;
      const { info } = letter;
      if (!info.subject.startsWith(filter.subjectPrefix)) continue;
      if (!info.reason.includes(filter.reasonContains)) continue;
      found.push(info);
      if (found.length === pageSize) break;
    }
    // A full page, or the scan bound: there may be more after `seq`.
    return { deadLetters: found, nextPageToken: (await this.hasAfter(seq, subject)) ? String(seq) : "" };
  }

  /** One letter with its payload decoded where its kind is known. */
  async get(sequence: number): Promise<GetDeadLetterResponse> {
    const { info, letter } = await this.read(sequence);
    const payloadType = PAYLOAD_TYPES[info.kind as DeadLetterKind];
    let payloadJson = "";
    let decodeError = "";
    if (payloadType === undefined) {
      decodeError = `no message type is known for subject "${info.subject}"`;
    } else {
      try {
        const message = decode(payloadType.type, payloadType.name, letter.data, info.subject);
        payloadJson = JSON.stringify(payloadType.type.toJSON(message));
      } catch (err) {
        decodeError = err instanceof Error ? err.message : String(err);
      }
    }
    return { deadLetter: info, payloadJson, decodeError, payload: letter.data };
  }

  /**
   * Publishes the letter again on its original subject, then deletes it.
   * @throws ApiError NOT_FOUND for no such letter, FAILED_PRECONDITION for a kind that cannot be replayed
   */
  async replay(sequence: number): Promise<ReplayDeadLetterResponse> {
    const { info, letter } = await this.read(sequence);
    if (!info.replayable) {
      throw ApiError.precondition(
        info.kind === "event-batch"
          ? `dead letter ${sequence} cannot be replayed: it is an event batch, already in the execution's history; discard it`
          : `dead letter ${sequence} cannot be replayed: a ${info.kind} message on "${info.subject}" has nothing to deliver it again to; discard it`,
      );
    }
    const ack = await this.js.publish(info.subject, letter.data, {
      msgID: deadLetterReplayMsgId(info.sequence, info.parkedTime),
    });
    await this.delete(sequence);
    return { subject: info.subject, duplicate: ack.duplicate };
  }

  /**
   * Deletes the letter.
   * @throws ApiError NOT_FOUND when there is no such letter
   */
  async discard(sequence: number): Promise<void> {
    await this.read(sequence);
    await this.delete(sequence);
  }

  private async delete(sequence: number): Promise<void> {
    try {
      await this.jsm.streams.deleteMessage(streams.deadLetters, sequence, false);
    } catch (err) {
      // Deleted by a concurrent call in between: what was asked for is done.
      if (await this.exists(sequence)) throw err;
    }
  }

  private async exists(sequence: number): Promise<boolean> {
    return (await this.getStored(sequence)) !== null;
  }

  private async hasAfter(seq: number, subject: string): Promise<boolean> {
    const msg = await this.jsm.streams.getMessage(streams.deadLetters, {
      seq,
      next_by_subj: subject,
    } as unknown as MsgRequest);
    return msg !== null;
  }

  private async getStored(sequence: number): Promise<StoredMsg | null> {
    try {
      return await this.jsm.streams.getMessage(streams.deadLetters, { seq: sequence });
    } catch {
      return null;
    }
  }

  private async read(sequence: number): Promise<{ info: DeadLetterInfo; letter: DeadLetter }> {
    if (!Number.isSafeInteger(sequence) || sequence < 1) {
      throw ApiError.invalid(`invalid request:\nsequence: must be a positive integer, got ${sequence}`);
    }
    const msg = await this.getStored(sequence);
    const letter = msg === null ? undefined : readLetter(msg);
    if (letter === undefined) {
      throw ApiError.notFound(`dead letter ${sequence} not found (replayed, discarded or expired)`);
    }
    return letter;
  }
}

/** A stored message as a letter; undefined when it is not a readable DeadLetter. */
function readLetter(msg: StoredMsg): { info: DeadLetterInfo; letter: DeadLetter } | undefined {
  if (!msg.subject.startsWith(subjects.deadLetter(""))) return undefined;
  let letter: DeadLetter;
  try {
    letter = decode(DeadLetter, "DeadLetter", msg.data, msg.subject);
  } catch {
    return undefined;
  }
  const about = deadLetterSubjectInfo(letter.subject);
  const deliveries = Number(msg.header?.get(DEAD_LETTER_DELIVERIES_HEADER) ?? "0");
  const info: DeadLetterInfo = {
    sequence: msg.seq,
    service: letter.service,
    subject: letter.subject,
    reason: letter.reason,
    parkedTime: letter.parkedTime ?? msg.time,
    kind: about.kind,
    executionId: about.executionId,
    replayable: about.replayable,
    sizeBytes: letter.data.byteLength,
    deliveryCount: Number.isSafeInteger(deliveries) && deliveries > 0 ? deliveries : 0,
  };
  return { info, letter };
}
