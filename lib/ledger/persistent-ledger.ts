import { Logger, LoggerService } from '@nestjs/common';
import { RunEvent } from '../events/run-event.interface';
import { LEDGER_DEFAULTS } from '../options/ledger-defaults';
import { MAX_TIMER_MS, positiveInteger, resolveLedgerOptions } from '../options/ledger-options.resolver';
import { PersistentLedgerConfig } from '../options/persistent-ledger-config.interface';
import { compactionLeaseFor, createStoreFromOptions } from '../storage/create-event-store';
import { EventStore } from '../storage/event-store';
import { StorageStats } from '../storage/storage-stats.interface';
import { LedgerConfigError } from '../errors/ledger-config.error';
import { planRetention, retentionFilter } from './retention-plan';
import { RunLedger } from './run-ledger';

/** Default `storagePath` (`LEDGER_DEFAULTS.storagePath`). */
export const DEFAULT_STORAGE_PATH = LEDGER_DEFAULTS.storagePath;
/** Default `maxEvents` (`LEDGER_DEFAULTS.maxEvents`). */
export const DEFAULT_MAX_EVENTS = LEDGER_DEFAULTS.maxEvents;
/** Default `compactIntervalMs` outside Nest (`LEDGER_DEFAULTS.compactIntervalMs`). */
export const DEFAULT_COMPACT_INTERVAL_MS = LEDGER_DEFAULTS.compactIntervalMs;

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

  /**
   * @throws LedgerConfigError naming the first invalid option (checked before anything is opened).
   */
  constructor(config: PersistentLedgerConfig = {}) {
    const options = resolveLedgerOptions(config, ['compactIntervalMs', 'logger']);
    super(options);
    this.maxEvents = options.maxEvents;
    this.highWaterMark = options.highWaterMark;
    this.compactIntervalMs = positiveInteger('compactIntervalMs', config.compactIntervalMs, LEDGER_DEFAULTS.compactIntervalMs, true);
    if (this.compactIntervalMs > MAX_TIMER_MS)
      throw new LedgerConfigError('compactIntervalMs', `must be at most ${MAX_TIMER_MS} ms (the longest Node.js timer)`);
    this.logger = config.logger ?? new Logger('PersistentLedger');
    this.store = createStoreFromOptions(options, {
      compactionLeaseMs: compactionLeaseFor(this.compactIntervalMs > 0 ? this.compactIntervalMs : Infinity),
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

  /**
   * Replaces memory with the store's content (queued events are written
   * first); events logged meanwhile are kept after it, once (the store may
   * already return them).
   */
  async load(): Promise<void> {
    await this.store.open();
    // What this ledger logged before the call is read back from the store, not kept from memory.
    await this.store.flush();
    const mark = this.events.length;
    const loaded: RunEvent[] = [];
    for await (const batch of this.store.readBatches()) for (const event of batch) loaded.push(event);
    if (mark === this.events.length) {
      this.replaceEvents(loaded);
      return;
    }
    const meanwhile = this.events.slice(mark);
    const meanwhileIds = new Set(meanwhile.map((e) => e.eventId));
    const alreadyLoaded = new Set(loaded.filter((e) => meanwhileIds.has(e.eventId)).map((e) => e.eventId));
    this.replaceEvents(loaded.concat(meanwhile.filter((e) => !alreadyLoaded.has(e.eventId))));
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
   * Stops the timer, waits for a running compaction, writes what is queued, and
   * closes the store (its lock, its connections); the data stays. A final write
   * failure is logged (with the number of events it concerns) and rethrown.
   */
  async close(): Promise<void> {
    this.stopCompactTimer();
    await this.whenIdle();
    this.initializing = null;
    await this.store.close();
  }

  /** The original design's name for {@link close}: it keeps the data (unlike `FileEventStore.destroy()`). */
  destroy(): Promise<void> {
    return this.close();
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

  /**
   * The store evicts from what it holds once its writer is paused; memory
   * evicts by the same plan from the events logged before that moment (the
   * mark), and keeps every event logged after it.
   */
  private async compactOnce(): Promise<number> {
    let mark = -1;
    const evicted = await this.store.compact(this.maxEvents, () => (mark = this.events.length));
    if (mark < 0) mark = this.events.length;
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
