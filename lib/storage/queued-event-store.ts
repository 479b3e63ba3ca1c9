import { Logger, LoggerService } from '@nestjs/common';
import { LedgerClosedError } from '../errors/ledger-closed.error';
import { RunEvent } from '../events/run-event.interface';
import { serializeRunEvent } from '../events/run-event.serializer';
import { sanitizeRunEvent } from '../events/run-event.validator';
import { LEDGER_DEFAULTS } from '../options/ledger-defaults';
import { EventStore } from './event-store';
import { GroupCommitQueue, RefusalPolicy } from './group-commit.queue';
import { StorageStats } from './storage-stats.interface';
import { Attributes, ledgerTelemetry, telemetryAttributes } from '../metrics/ledger-telemetry';

/** Options every queued store takes. */
export interface QueuedEventStoreOptions {
  /** Write queued events in the background as soon as they are logged; when false only `flush()` (and rewrites, close) write. @default true */
  autoFlush?: boolean | undefined;
  /** Largest serialised event accepted, in bytes. @default 4 MiB */
  maxEventBytes?: number | undefined;
  /** Where warnings and write errors go. @default new Logger('LedgerStore') */
  logger?: LoggerService | undefined;
}

/** An event with its serialised line, as a rewrite receives it. */
export interface EventRow {
  event: RunEvent;
  line: string;
}

/** What a driver reports about its stored data; the queue adds the writer's health. */
export type StoredCounts = Omit<StorageStats, 'driver' | 'pendingEvents' | 'lastWriteOk' | 'lastWriteError'>;

/** The counts of a store never read successfully. */
const EMPTY_COUNTS: StoredCounts = {
  eventCount: 0,
  storageSizeBytes: 0,
  oldestEvent: null,
  newestEvent: null,
  corruptLines: 0,
  refusedEvents: 0,
  countsStale: true,
};

/**
 * What the NDJSON and PostgreSQL stores share: one serialised writer
 * ({@link GroupCommitQueue}) that writes whatever is queued as one batch, and
 * the enqueue / flush / rewrite / compact / close skeleton around it. A driver
 * says how a batch is written, how the content is replaced or compacted, how
 * it is counted, and what it releases; the queue decides when.
 */
export abstract class QueuedEventStore<Q extends { event: RunEvent }> extends EventStore {
  protected readonly maxEventBytes: number;
  protected readonly logger: LoggerService;
  protected readonly queue: GroupCommitQueue<Q>;
  private closed = false;
  private telemetryAttributes: Attributes | undefined;
  private lastCounts: StoredCounts | null = null;

  /** `'ndjson'`, `'postgres'`: the `driver` of the stats. */
  protected abstract readonly driver: string;

  constructor(options: QueuedEventStoreOptions, refusals: (store: QueuedEventStore<Q>) => RefusalPolicy<Q> | null = () => null) {
    super();
    this.maxEventBytes = options.maxEventBytes ?? LEDGER_DEFAULTS.maxEventBytes;
    this.logger = options.logger ?? new Logger('LedgerStore');
    this.queue = new GroupCommitQueue(
      (batch) => this.measuredWrite(batch),
      this.logger,
      options.autoFlush ?? LEDGER_DEFAULTS.autoFlush,
      refusals(this),
    );
  }

  /** Where the data lives, for messages (a path, `schema."table"`). */
  protected abstract describeLocation(): string;

  override describe(): { driver: string; location: string } {
    return { driver: this.driver, location: this.describeLocation() };
  }

  /** A batch write, recorded in the metrics (`ledger.write.*`, `ledger.events.appended`). */
  private async measuredWrite(batch: Q[]): Promise<void> {
    const started = performance.now();
    this.telemetryAttributes ??= telemetryAttributes(this);
    try {
      await this.writeBatch(batch);
    } catch (err) {
      ledgerTelemetry.writeFailed(this.telemetryAttributes, err as Error);
      throw err;
    }
    ledgerTelemetry.written(this.telemetryAttributes, batch.length, (performance.now() - started) / 1000);
  }

  /** The queue item for an event and its line (the file store keeps the line encoded outside the heap). */
  protected abstract toQueued(event: RunEvent, line: string): Q;

  /** Makes one batch durable, or throws leaving no trace of it. */
  protected abstract writeBatch(batch: Q[]): Promise<void>;

  /** Atomically replaces the stored content with `rows` (the store is open, no batch is being written). */
  protected abstract replaceContent(rows: Iterable<EventRow>): Promise<void>;

  /** Evicts all but the newest `maxEvents` (the store is open, queued events are written); returns how many went. */
  protected abstract compactContent(maxEvents: number): Promise<number>;

  /** Counts of the stored data; answers from what it last knew when the storage cannot be reached. */
  protected abstract readCounts(): Promise<StoredCounts>;

  /** Releases what the store holds (a lock, a connection pool) after its last write. */
  protected abstract releaseResources(): Promise<void>;

  /** Deletes the stored data and releases what the store holds. */
  protected abstract deleteContent(): Promise<void>;

  /** Items a rewrite stored by other means were dropped from the queue (the file store frees their encoded lines). */
  protected dropSuperseded(_items: Q[]): void {}

  enqueue(events: RunEvent[]): void {
    if (this.closed) throw new LedgerClosedError(this.describeLocation());
    const refusal = this.writesRefused();
    if (refusal) throw refusal;
    // Every line first: an event above the size limit throws before anything is queued.
    const lines = events.map((event) => serializeRunEvent(event, this.maxEventBytes));
    this.queue.push(events.map((event, i) => this.toQueued(event, lines[i])));
  }

  flush(): Promise<void> {
    return this.queue.flush();
  }

  /**
   * Runs `fn` once every queued event is durable and while no write runs;
   * events queued meanwhile wait. Other store calls made inside `fn` run directly.
   * Not part of the {@link EventStore} contract: a concurrency tool of these two drivers.
   */
  withWriterPaused<R>(fn: () => Promise<R>): Promise<R> {
    return this.queue.exclusive(fn);
  }

  writeAll(events: readonly RunEvent[]): Promise<void> {
    // Replaced: what is queued at the call; what is queued after it (even before the rewrite starts) is written after.
    const replacedUpTo = this.queue.enqueuedCount;
    return this.queue.exclusive(async () => {
      await this.open();
      const maxEventBytes = this.maxEventBytes;
      // Validated and serialised one at a time, as the rewrite consumes them.
      function* rows(): Iterable<EventRow> {
        for (const input of events) {
          const event = sanitizeRunEvent(input, maxEventBytes);
          yield { event, line: serializeRunEvent(event, maxEventBytes) };
        }
      }
      await this.replaceContent(rows());
      this.dropSuperseded(this.queue.supersedeUpTo(replacedUpTo));
    }, false);
  }

  compact(maxEvents: number, onPaused?: () => void): Promise<number> {
    return this.queue.exclusive(async () => {
      await this.open();
      onPaused?.();
      return this.compactContent(maxEvents);
    });
  }

  /**
   * Never rejects: the writer's fields come from local state, and when the data cannot be read now
   * (a database away, a store directory replaced) the counts are the last known ones, `countsStale: true`.
   */
  async getStats(): Promise<StorageStats> {
    let counts: StoredCounts;
    try {
      counts = await this.readCounts();
      this.lastCounts = counts;
    } catch {
      counts = { ...(this.lastCounts ?? EMPTY_COUNTS), countsStale: true };
    }
    return {
      ...counts,
      driver: this.driver,
      pendingEvents: this.queue.size,
      lastWriteOk: this.queue.lastError === null,
      lastWriteError: this.queue.lastError?.message ?? null,
      lockLost: this.lockLost(),
    };
  }

  /** Whether `close()` or `deleteAll()` was called. */
  protected get isClosed(): boolean {
    return this.closed;
  }

  /** Why new events cannot be accepted now (the NDJSON store's lock held by another process), or null. */
  protected writesRefused(): Error | null {
    return null;
  }

  /** Whether the store lost its exclusive write access (the NDJSON store's lock); false where there is none. */
  protected lockLost(): boolean {
    return false;
  }

  async close(): Promise<void> {
    this.closed = true;
    try {
      await this.queue.flushAndClose();
    } finally {
      await this.releaseResources();
    }
  }

  async deleteAll(): Promise<void> {
    this.closed = true;
    this.queue.close();
    await this.deleteContent();
  }
}
