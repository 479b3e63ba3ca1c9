import { RunEvent } from '../events/run-event.interface';
import { StorageStats } from './storage-stats.interface';

/** Filters for {@link EventStore.stream}; every bound is inclusive. */
export interface EventQuery {
  /** Smallest timestamp (epoch ms) to return. */
  from?: number | undefined;
  /** Largest timestamp (epoch ms) to return. */
  to?: number | undefined;
  /** Only events of this task. */
  taskId?: string | undefined;
}

/**
 * One step of a store's feed ({@link EventStore.tail}): events newly stored,
 * in store order, and where the feed stands after them.
 */
export interface FeedBatch {
  /** Events in store order (possibly none, e.g. on a reset or when catching up reached the end). */
  events: RunEvent[];
  /** Opaque position after the last event: `tail({ after: cursor })` resumes from here, also after a restart. */
  cursor: string;
  /** True once the feed has delivered everything stored when it last looked: from here on it follows live. */
  caughtUp: boolean;
  /**
   * True when the store's content changed other than by appending (a compaction,
   * a `writeAll`, on any replica): the feed starts over from the first stored
   * event, and the batches from this one until `caughtUp` replace what a reader held.
   */
  reset: boolean;
  /**
   * Set when the feed cannot be woken by the store and only polls (PostgreSQL: `LISTEN` refused,
   * e.g. behind a transaction pooler, or its connection lost): why. Absent or null when it is woken.
   */
  polling?: string | null | undefined;
}

/** Where {@link EventStore.tail} starts. */
export interface TailOptions {
  /**
   * A cursor from an earlier batch: resume after it. `null`: from the first
   * stored event. Omitted: from now (only events stored from here on).
   */
  after?: string | null | undefined;
  /** Ends the iteration (also ended by `close()`). */
  signal?: AbortSignal | undefined;
  /**
   * The follower's own copy of an event it already holds (one it logged that
   * the feed has not delivered yet), by id: a store may deliver that copy
   * instead of decoding and validating the stored row again.
   */
  known?: ((eventId: string) => RunEvent | undefined) | undefined;
}

/**
 * The storage under a {@link PersistentLedger}: an append-only log of run
 * events. Also the Nest injection token for the store the module created.
 * The NDJSON, PostgreSQL and in-memory stores implement it; so can yours
 * (pass it as the `store` option).
 *
 * What a driver must provide:
 * - **Writes**: `enqueue` queues events synchronously (all or none); `flush`
 *   tells when everything enqueued before it is durable. A failed write is never
 *   dropped: `flush()` rejects with the cause and the events stay queued until a
 *   later write succeeds. Events the backend refuses for good are reported
 *   through {@link notifyRefused} (see {@link onRefused}).
 * - **Reads** (`readBatches`): stored events in append order, each passing the
 *   same validation and defaulting as `logEvent` input; whatever is not a valid
 *   event is skipped and counted in `getStats().corruptLines`.
 * - **Rewrites**: `writeAll` (replace everything) and `compact` (retention), each atomic.
 * - **Stats** and **close**; `deleteAll` to remove the data for good.
 */
export abstract class EventStore {
  private readonly refusalListeners = new Set<(eventIds: string[]) => void>();
  private readonly changeListeners = new Set<() => void>();

  /**
   * Whether other processes may write this store too (PostgreSQL: yes; the
   * locked NDJSON store and the in-memory store: no). When false, a ledger's
   * memory holds every event; when true, read through `stream()` to see other replicas' events.
   */
  abstract readonly sharedByReplicas: boolean;

  /** What and where the store is, for logs, metrics' attributes and the command-line tool: `{ driver: 'ndjson', location: '/data/.ledger' }`. */
  describe(): { driver: string; location: string } {
    return { driver: this.constructor.name, location: '' };
  }

  /** Makes the store ready to write (creates what is missing, takes what it needs). Idempotent. */
  abstract open(): Promise<void>;

  /**
   * Queues events for the next batch, in order. Synchronous; all or none are queued.
   *
   * @throws LedgerValidationError when an event serialises above the per-event size limit.
   * @throws LedgerClosedError after `close()`.
   */
  abstract enqueue(events: RunEvent[]): void;

  /** Resolves once every event queued before the call is durable; rejects with `LedgerWriteError` (the cause in `cause`) otherwise. */
  abstract flush(): Promise<void>;

  /** Appends one event and resolves once it is durable. */
  append(event: RunEvent): Promise<void> {
    this.enqueue([event]);
    return this.flush();
  }

  /**
   * Streams stored events in append order, in batches, each validated as
   * `logEvent` input is (defaults filled in); invalid ones are skipped and
   * counted in `corruptLines`. Reading needs no lock.
   */
  abstract readBatches(query?: EventQuery): AsyncIterable<RunEvent[]>;

  /** Streams stored events in append order, one at a time. */
  async *stream(query: EventQuery = {}): AsyncIterable<RunEvent> {
    for await (const batch of this.readBatches(query)) yield* batch;
  }

  /** Every stored event, in append order. */
  async readAll(): Promise<RunEvent[]> {
    return this.collect({});
  }

  /** Stored events with `startMs <= timestamp <= endMs`, in append order. */
  async readRange(startMs: number, endMs: number): Promise<RunEvent[]> {
    return this.collect({ from: startMs, to: endMs });
  }

  /**
   * Atomically replaces the whole content with `events`. Events queued before
   * the call are replaced too; events queued during it are appended after.
   */
  abstract writeAll(events: readonly RunEvent[]): Promise<void>;

  /**
   * Keeps the newest `maxEvents` by timestamp (later-appended first among equal
   * timestamps), evicts the rest atomically, and returns how many it evicted.
   * What was enqueued before the call is written first and compacted; what is
   * enqueued after the call is written after the compaction and not evicted by
   * it. `onPaused`, when given, is called once the writer is paused, right
   * before the store decides what to evict.
   */
  abstract compact(maxEvents: number, onPaused?: () => void): Promise<number>;

  /**
   * Size, span and writer health. A read: it takes no lock and creates nothing,
   * and it answers from local state when the storage cannot be reached.
   */
  abstract getStats(): Promise<StorageStats>;

  /**
   * The feed: every event stored after `options.after`, in store order (the
   * order `readBatches` gives), each exactly once, then every event as it
   * becomes durable, until `signal` aborts or the store closes. Shared stores
   * deliver every writer's events; single-writer stores those of the writer.
   */
  abstract tail(options?: TailOptions): AsyncIterable<FeedBatch>;

  /** Writes what is queued, then releases every resource (lock, connections). Rejects if the final write fails. */
  abstract close(): Promise<void>;

  /** Closes the store and deletes every stored event for good (the files, the tables). */
  abstract deleteAll(): Promise<void>;

  /**
   * Calls `listener` with the ids of events the store refused for good and set
   * aside (see `LedgerEventRefusedError`); the ledger uses it to drop them from
   * memory. Returns a function that removes the listener.
   */
  onRefused(listener: (eventIds: string[]) => void): () => void {
    this.refusalListeners.add(listener);
    return () => this.refusalListeners.delete(listener);
  }

  /**
   * Calls `listener` when a single-writer store finds that its content was changed by another
   * process while it did not hold the store (its lock was removed and someone else wrote or
   * compacted meanwhile); the ledger then reloads its memory. Returns a function that removes the listener.
   */
  onChangedElsewhere(listener: () => void): () => void {
    this.changeListeners.add(listener);
    return () => this.changeListeners.delete(listener);
  }

  /** For drivers: reports that the stored content was changed by another process. */
  protected notifyChangedElsewhere(): void {
    for (const listener of this.changeListeners) listener();
  }

  /** For drivers: reports events refused for good, once they were set aside. */
  protected notifyRefused(eventIds: string[]): void {
    for (const listener of this.refusalListeners) listener(eventIds);
  }

  /**
   * Which of `eventIds` the store holds now. The ledger asks a store shared by replicas about its
   * own events that a compaction on another replica may have evicted before its feed delivered
   * them. The default reads every stored event; drivers answer from an index.
   */
  async heldEventIds(eventIds: readonly string[]): Promise<Set<string>> {
    const wanted = new Set(eventIds);
    const held = new Set<string>();
    for await (const batch of this.readBatches()) for (const event of batch) if (wanted.has(event.eventId)) held.add(event.eventId);
    return held;
  }

  /**
   * A capability of stores whose writes skip events they already hold (by `eventId`), as the
   * PostgreSQL store's unique `event_id` does: how many events its writes stored anew since it was
   * created. `null` (the default) when writes do not skip held events, so a copy into the store
   * reads its ids first (see `copyEvents`).
   */
  eventsWrittenAnew(): number | null {
    return null;
  }

  private async collect(query: EventQuery): Promise<RunEvent[]> {
    const out: RunEvent[] = [];
    for await (const batch of this.readBatches(query)) for (const event of batch) out.push(event);
    return out;
  }
}
