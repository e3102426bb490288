/**
 * A transition under construction: the events one decision appends, numbered from the
 * snapshot's last event id, and the snapshot they fold into (kept current after each event, so
 * the next decision step sees its predecessors' effect).
 */
import { applyEventsInPlace, copyForFold } from "../model";
import type { EventBatch, ExecutionSnapshot, HistoryEvent, ParentRef } from "@jetflow/contracts";

/** The `details` of a HistoryEvent: which event and its fields. */
export type EventDetails = NonNullable<HistoryEvent["details"]>;

export class Transition {
  private readonly events: HistoryEvent[] = [];
  private current: ExecutionSnapshot | undefined;

  constructor(
    readonly executionId: string,
    initial: ExecutionSnapshot | undefined,
    private readonly now: Date,
  ) {
    // Our own copy, folded event by event: the caller's snapshot (often the cache's) stays intact
    // if this transition is never committed, or is decided again after a need.
    this.current = initial ? copyForFold(initial) : undefined;
  }

  /** The snapshot after every event emitted so far (undefined before ExecutionStarted). */
  get snapshot(): ExecutionSnapshot | undefined {
    return this.current;
  }

  /** The id the next emitted event will get (task tokens and timer ids embed it). */
  get nextEventId(): number {
    return (this.current?.lastEventId ?? 0) + 1;
  }

  /** The events emitted so far, in order. */
  get emitted(): readonly HistoryEvent[] {
    return this.events;
  }

  /** How many events this transition holds. */
  get size(): number {
    return this.events.length;
  }

  /** Appends an event and folds it into the snapshot. */
  emit(details: EventDetails, stateName = ""): HistoryEvent {
    const event: HistoryEvent = {
      eventId: this.nextEventId,
      executionId: this.executionId,
      timestamp: this.now,
      stateName,
      details,
    };
    this.current = applyEventsInPlace(this.current, [event], this.executionId);
    this.events.push(event);
    return event;
  }

  /** The batch to commit, or undefined when the decision changed nothing. */
  toBatch(parent: ParentRef | undefined): EventBatch | undefined {
    if (this.events.length === 0) return undefined;
    return { executionId: this.executionId, events: this.events, parent };
  }
}
