import { RunEvent } from '../events/run-event.interface';
import { FeedBatch } from '../storage/event-store';

/** The ledger's memory as the mirror arranges it: the list itself, spliced in place, and how to replace it. */
export interface MirroredMemory {
  /** The current list (replaced by `replaceEvents`). */
  events(): RunEvent[];
  replaceEvents(events: RunEvent[]): void;
  /** Records an event put into `events` by the mirror (not by an append). */
  noteEventId(eventId: string): void;
}

/** What applying a feed batch did to memory. */
export interface MirrorUpdate {
  /** Newly stored events, in store order, to emit on `events$` (none while rebuilding). */
  stored: RunEvent[];
  /**
   * Own events a finished rebuild kept as not delivered yet: some may have been evicted by a
   * compaction elsewhere after they were committed. Check them once durable ({@link ReplicaMirror.dropEvicted}).
   */
  toCheck: RunEvent[];
}

/**
 * Memory in the store's order on a store shared by replicas. `events[0, committed)` are in store
 * order as the feed delivered them; the rest are this replica's own events, logged and not yet
 * seen in the feed (kept so that a replica reads its own writes). A reset batch (the first load, a
 * rewrite on any replica) starts a rebuild: memory becomes the feed's content once it catches up,
 * followed by the own events it has not delivered. Pure: no store, no clock.
 */
export class ReplicaMirror {
  private committed = 0;
  /** `events[committed..]` by id: the feed hands an own event back instead of decoding its row. */
  private undelivered = new Map<string, RunEvent>();
  /** While the feed starts over: the store's events so far. */
  private rebuilding: RunEvent[] | null = null;

  constructor(private readonly memory: MirroredMemory) {}

  /** The own event with this id that the feed has not delivered yet (`TailOptions.known`). */
  known(eventId: string): RunEvent | undefined {
    return this.undelivered.get(eventId);
  }

  /** Own events were appended to memory (after the committed part). */
  ownAppended(events: readonly RunEvent[]): void {
    for (const event of events) this.undelivered.set(event.eventId, event);
  }

  /** The next batches rebuild memory from the store (a first load). */
  startRebuild(): void {
    this.rebuilding = [];
  }

  /** Memory was replaced from outside (refused events, evictions): the committed part is what is left of it. */
  memoryReplaced(events: readonly RunEvent[]): void {
    this.committed = Math.min(this.committed, events.length);
    this.undelivered = new Map(events.slice(this.committed).map((e) => [e.eventId, e]));
  }

  apply(batch: FeedBatch): MirrorUpdate {
    if (batch.reset) this.rebuilding = [];
    if (this.rebuilding) {
      for (const event of batch.events) this.rebuilding.push(event);
      return { stored: [], toCheck: batch.caughtUp ? this.finishRebuild() : [] };
    }
    for (const event of batch.events) this.placeDelivered(event);
    return { stored: batch.events, toCheck: [] };
  }

  /**
   * Of `candidates` (from {@link MirrorUpdate.toCheck}), now durable, drops from memory those the
   * store does not hold (`held`) and the feed has not delivered: a durable event the store lacks
   * was evicted. Returns how many left memory.
   */
  dropEvicted(candidates: readonly RunEvent[], held: ReadonlySet<string>): number {
    const evicted = new Set(candidates.filter((e) => !held.has(e.eventId) && this.undelivered.has(e.eventId)).map((e) => e.eventId));
    if (evicted.size > 0) this.memory.replaceEvents(this.memory.events().filter((e) => !evicted.has(e.eventId)));
    return evicted.size;
  }

  /** Memory becomes the store's content as the feed rebuilt it, followed by own events it has not delivered; returns those. */
  private finishRebuild(): RunEvent[] {
    const rebuilt = this.rebuilding!;
    this.rebuilding = null;
    let pending = this.memory.events().slice(this.committed);
    if (pending.length > 0) {
      const pendingIds = new Set(pending.map((e) => e.eventId));
      const delivered = new Set(rebuilt.filter((e) => pendingIds.has(e.eventId)).map((e) => e.eventId));
      pending = pending.filter((e) => !delivered.has(e.eventId));
    }
    this.committed = rebuilt.length;
    this.memory.replaceEvents(rebuilt.concat(pending));
    return pending;
  }

  /** Puts an event the feed delivered at the end of the committed part (an own event moves there from the pending part). */
  private placeDelivered(event: RunEvent): void {
    const events = this.memory.events();
    this.undelivered.delete(event.eventId);
    const at = this.committed;
    this.committed++;
    if (at === events.length) {
      events.push(event);
      this.memory.noteEventId(event.eventId);
      return;
    }
    if (events[at].eventId === event.eventId) return;
    for (let i = at + 1; i < events.length; i++) {
      if (events[i].eventId === event.eventId) {
        const [own] = events.splice(i, 1);
        events.splice(at, 0, own);
        return;
      }
    }
    events.splice(at, 0, event);
    this.memory.noteEventId(event.eventId);
  }
}
