import { Logger, LoggerService } from '@nestjs/common';
import { EventStore } from '../storage/event-store';
import { FileEventStore } from '../storage/file/file-event.store';
import { PersistentLedgerConfig } from '../options/persistent-ledger-config.interface';
import { RunEvent } from '../events/run-event.interface';
import { StorageStats } from '../storage/storage-stats.interface';
import { planRetention, retentionFilter } from './retention-plan';
import { RunLedger } from './run-ledger';

/** Defaults of {@link PersistentLedgerConfig}. */
export const DEFAULT_STORAGE_PATH = '.ledger';
export const DEFAULT_MAX_EVENTS = 10_000;
export const DEFAULT_COMPACT_INTERVAL_MS = 60 * 60 * 1000;

/**
 * A {@link RunLedger} whose every event (from `logEvent`, `finalizeEvent` or
 * `importEvents`) is also persisted by an {@link EventStore}.
 *
 * `logEvent` stays synchronous: it validates, stores in memory and queues the
 * write. `flush()` tells when queued writes are durable and rejects if one
 * failed; failed events stay queued and are retried.
 */
export class PersistentLedger extends RunLedger {
  readonly maxEvents: number;
  private readonly store: EventStore;
  private readonly logger: LoggerService;
  private readonly compactIntervalMs: number;
  private readonly highWaterMark: number;
  private compactTimer: NodeJS.Timeout | null = null;
  private initializing: Promise<void> | null = null;
  private running: Promise<number> | null = null;

  constructor(config: PersistentLedgerConfig = {}) {
    super(config);
    this.maxEvents = config.maxEvents ?? DEFAULT_MAX_EVENTS;
    this.compactIntervalMs = config.compactIntervalMs ?? DEFAULT_COMPACT_INTERVAL_MS;
    this.highWaterMark = config.highWaterMark ?? this.maxEvents * 2;
    this.logger = config.logger ?? new Logger('PersistentLedger');
    this.store =
      config.store ??
      new FileEventStore({
        storagePath: config.storagePath ?? DEFAULT_STORAGE_PATH,
        autoFlush: config.enableWAL ?? true,
        maxEventBytes: this.maxEventBytes,
        lockStaleMs: config.lockStaleMs,
        logger: config.logger,
      });
    // An event the store refused for good is set aside by the store; memory must not count it either.
    this.store.onRefused((eventIds) => {
      const refused = new Set(eventIds);
      this.replaceEvents(this.events.filter((e) => !refused.has(e.eventId)));
    });
  }

  /**
   * Opens the store (taking its lock), loads it into memory and starts the
   * compaction timer. Idempotent.
   *
   * @throws LedgerLockedError when another process writes the same store.
   */
  init(): Promise<void> {
    this.initializing ??= (async () => {
      await this.load();
      this.startCompactTimer();
      this.compactIfAboveHighWaterMark();
    })();
    this.initializing.catch(() => (this.initializing = null));
    return this.initializing;
  }

  /** Replaces memory with the store's content (events logged meanwhile are kept after it). */
  async load(): Promise<void> {
    await this.store.open();
    await this.store.withWriterPaused(async () => {
      const mark = this.events.length;
      const loaded: RunEvent[] = [];
      for await (const batch of this.store.readBatches()) for (const event of batch) loaded.push(event);
      this.replaceEvents(mark === this.events.length ? loaded : loaded.concat(this.events.slice(mark)));
    });
  }

  /** Atomically rewrites the store from memory. */
  async save(): Promise<void> {
    await this.store.writeAll(this.exportEvents());
  }

  /** Resolves once every event logged before the call is durable; rejects with the write error if a write failed. */
  flush(): Promise<void> {
    return this.store.flush();
  }

  /**
   * Keeps the newest `maxEvents` (by timestamp) in the store and in memory and
   * returns how many were evicted. Calls made while one runs share its result,
   * so compactions never overlap.
   */
  compact(): Promise<number> {
    this.running ??= this.compactOnce().finally(() => (this.running = null));
    return this.running;
  }

  /** Whether a compaction is running now. */
  get isCompacting(): boolean {
    return this.running !== null;
  }

  /** Resolves when no compaction is running. */
  async whenIdle(): Promise<void> {
    await this.running?.catch(() => undefined);
  }

  getStorageStats(): Promise<StorageStats> {
    return this.store.getStats();
  }

  /**
   * Stops the timer, writes what is queued, and releases the lock; the files stay.
   * A final write failure is logged (with the number of events it concerns) and rethrown.
   */
  async destroy(): Promise<void> {
    this.stopCompactTimer();
    await this.whenIdle();
    this.initializing = null;
    await this.store.close();
  }

  getEventStore(): EventStore {
    return this.store;
  }

  protected override append(events: RunEvent[]): void {
    this.store.enqueue(events);
    super.append(events);
    this.compactIfAboveHighWaterMark();
  }

  private compactIfAboveHighWaterMark(): void {
    if (this.highWaterMark > 0 && this.events.length > this.highWaterMark && !this.running) {
      this.compact().catch((err) => this.logger.error(`High-water-mark compaction failed: ${(err as Error).message}`, (err as Error).stack));
    }
  }

  private async compactOnce(): Promise<number> {
    return this.store.withWriterPaused(async () => {
      const mark = this.events.length;
      const evicted = await this.store.compact(this.maxEvents);
      const settled = this.events.slice(0, mark);
      const plan = planRetention(
        settled.map((e) => e.timestamp),
        this.maxEvents,
      );
      if (plan) {
        const keep = retentionFilter(plan);
        this.replaceEvents(settled.filter((e) => keep(e.timestamp)).concat(this.events.slice(mark)));
      }
      return evicted;
    });
  }

  private startCompactTimer(): void {
    if (this.compactIntervalMs <= 0 || this.compactTimer) return;
    this.compactTimer = setInterval(() => {
      this.compact().catch((err) => this.logger.error(`Scheduled compaction failed: ${(err as Error).message}`, (err as Error).stack));
    }, this.compactIntervalMs);
    this.compactTimer.unref();
  }

  private stopCompactTimer(): void {
    if (this.compactTimer) clearInterval(this.compactTimer);
    this.compactTimer = null;
  }
}

/** Creates a persistent ledger; call `init()` before use to load the store. */
export function createPersistentLedger(config?: PersistentLedgerConfig): PersistentLedger {
  return new PersistentLedger(config);
}
