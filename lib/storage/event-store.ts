import { RunEvent } from '../events/run-event.interface';
import { StorageStats } from './storage-stats.interface';

/** Filters for {@link EventStore.stream}; every bound is inclusive. */
export interface EventQuery {
  /** Smallest timestamp (epoch ms) to return. */
  from?: number;
  /** Largest timestamp (epoch ms) to return. */
  to?: number;
  /** Only events of this task. */
  taskId?: string;
}

/**
 * The storage under a {@link PersistentLedger}: an append-only log of run
 * events. Also the Nest injection token for the store the module created.
 *
 * Writes are queued synchronously by `enqueue` and made durable in batches by
 * one serialised writer (group commit); `flush()` tells when they are. A failed
 * write is never dropped: `flush()` rejects with the cause and the events stay
 * queued until a later write succeeds.
 */
export abstract class EventStore {
  private readonly refusalListeners = new Set<(eventIds: string[]) => void>();

  /**
   * Whether other processes may write this store too (PostgreSQL: yes; the
   * locked NDJSON store: no). When false, a ledger's memory holds every event;
   * when true, read through `stream()` to see other replicas' events.
   */
  abstract readonly sharedByReplicas: boolean;

  /** Opens the store for writing (takes the lock, repairs a torn tail, checks the index). Idempotent. */
  abstract open(): Promise<void>;

  /**
   * Queues events for the next batch, in order. Synchronous; all or none are queued.
   *
   * @throws LedgerValidationError when an event serialises above the per-event size limit.
   */
  abstract enqueue(events: RunEvent[]): void;

  /** Resolves once every event queued before the call is durable; rejects with the write error otherwise. */
  abstract flush(): Promise<void>;

  /** Appends one event and resolves once it is durable. */
  append(event: RunEvent): Promise<void> {
    this.enqueue([event]);
    return this.flush();
  }

  /** Streams stored events in append order, in batches; lines that cannot be parsed are skipped (and counted in the stats). */
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
   * Queued events are written first.
   */
  abstract compact(maxEvents: number): Promise<number>;

  /**
   * Runs `fn` once every queued event is durable and while no write runs;
   * events queued meanwhile wait. Other store calls made inside `fn` run directly.
   */
  abstract withWriterPaused<R>(fn: () => Promise<R>): Promise<R>;

  /**
   * Size, span and writer health. A read: it takes no lock and creates nothing,
   * and it answers from local state when the storage cannot be reached.
   */
  abstract getStats(): Promise<StorageStats>;

  /**
   * Calls `listener` with the ids of events the store refused for good and set
   * aside (see `LedgerEventRefusedError`); the ledger uses it to drop them from
   * memory. Returns a function that removes the listener.
   */
  onRefused(listener: (eventIds: string[]) => void): () => void {
    this.refusalListeners.add(listener);
    return () => this.refusalListeners.delete(listener);
  }

  /** For stores: reports events refused for good (after they were set aside). */
  protected notifyRefused(eventIds: string[]): void {
    for (const listener of this.refusalListeners) listener(eventIds);
  }

  /**
   * Takes exclusive write access.
   *
   * @throws LedgerLockedError when a live holder has it.
   */
  abstract acquireLock(): Promise<void>;

  /** Gives up write access; only the holder's release removes the lock. */
  abstract releaseLock(): Promise<void>;

  /** Writes what is queued, then releases every resource. Rejects if the final write fails. */
  abstract close(): Promise<void>;

  /** Closes the store and deletes its data. */
  abstract destroy(): Promise<void>;

  private async collect(query: EventQuery): Promise<RunEvent[]> {
    const out: RunEvent[] = [];
    for await (const batch of this.readBatches(query)) for (const event of batch) out.push(event);
    return out;
  }
}
