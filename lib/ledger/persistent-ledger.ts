import { Logger, LoggerService } from '@nestjs/common';
import { Observable, Subject } from 'rxjs';
import { RunEvent } from '../events/run-event.interface';
import { LEDGER_DEFAULTS } from '../options/ledger-defaults';
import { resolvePersistentLedgerConfig } from '../options/persistent-ledger-config.resolver';
import { PersistentLedgerConfig } from '../options/persistent-ledger-config.interface';
import { compactionLeaseFor, createStoreFromOptions } from '../storage/store-from-options';
import { EventStore, FeedBatch } from '../storage/event-store';
import { StorageStats } from '../storage/storage-stats.interface';
import { planRetention, retentionFilter } from '../storage/retention-plan';
import { RunLedger } from './run-ledger';
import { LedgerFeedStatus } from './ledger-feed-status.interface';
import { ledgerTelemetry, telemetryAttributes } from '../metrics/ledger-telemetry';
import { CompactionScheduler } from './compaction-scheduler';
import { FeedFollower } from './feed-follower';
import { ReplicaMirror } from './replica-mirror';

/**
 * Default `storagePath`.
 * @deprecated Use `LEDGER_DEFAULTS.storagePath` (every default is there).
 */
export const DEFAULT_STORAGE_PATH = LEDGER_DEFAULTS.storagePath;
/**
 * Default `maxEvents`.
 * @deprecated Use `LEDGER_DEFAULTS.maxEvents` (every default is there).
 */
export const DEFAULT_MAX_EVENTS = LEDGER_DEFAULTS.maxEvents;
/**
 * Default `compactIntervalMs` outside Nest.
 * @deprecated Use `LEDGER_DEFAULTS.compactIntervalMs` (every default is there).
 */
export const DEFAULT_COMPACT_INTERVAL_MS = LEDGER_DEFAULTS.compactIntervalMs;

/**
 * A {@link RunLedger} whose every event (from `logEvent`, `finalizeEvent` or
 * `importEvents`) is also persisted by an {@link EventStore}.
 *
 * `logEvent` stays synchronous: it validates, stores in memory and queues the
 * write. `flush()` tells when queued writes are durable and rejects if one
 * failed; failed events stay queued and are retried.
 *
 * Composed of: the store; a {@link FeedFollower} (the store's feed, from `load()` to `close()`);
 * on a store shared by replicas a {@link ReplicaMirror} (memory in the store's order); and a
 * {@link CompactionScheduler} (its own timer and the high-water mark, outside Nest).
 */
export class PersistentLedger extends RunLedger {
  readonly maxEvents: number;
  private readonly store: EventStore;
  private readonly logger: LoggerService;
  private readonly scheduler: CompactionScheduler;
  private readonly feed: FeedFollower;
  /** On a store shared by replicas: memory in the store's order (null on the others, whose feed only drives `events$`). */
  private readonly mirror: ReplicaMirror | null;
  private initializing: Promise<void> | null = null;
  private readonly storedEvents = new Subject<RunEvent>();
  /** Ends the report of this ledger's backlog and corrupt lines in the metrics. */
  private unobserve: (() => void) | null = null;

  /**
   * Every newly stored event, once durable, in store order: on PostgreSQL the
   * events of every replica (from the replica feed), on the NDJSON and
   * in-memory stores this process's events once written. Hot: a subscriber
   * sees what is stored after it subscribed; subscribers run synchronously in
   * the feed, so hand slow work off (`observeOn(asapScheduler)`, a queue).
   * Completes at `close()`. To read without gaps across restarts, keep a
   * cursor and use `getEventStore().tail({ after })`.
   */
  readonly events$: Observable<RunEvent> = this.storedEvents.asObservable();

  /**
   * @throws LedgerConfigError naming the first invalid option (checked before anything is opened).
   */
  constructor(config: PersistentLedgerConfig = {}) {
    const options = resolvePersistentLedgerConfig(config);
    super(options);
    this.maxEvents = options.maxEvents;
    this.logger = config.logger ?? new Logger('PersistentLedger');
    this.store = createStoreFromOptions(options, {
      compactionLeaseMs: compactionLeaseFor(options.compactIntervalMs > 0 ? options.compactIntervalMs : Infinity),
      logger: config.logger,
    });
    this.scheduler = new CompactionScheduler(() => this.compactOnce(), options.compactIntervalMs, options.highWaterMark, this.logger);
    this.mirror = this.store.sharedByReplicas
      ? new ReplicaMirror({
          events: () => this.events,
          replaceEvents: (events) => this.replaceEvents(events),
          noteEventId: (eventId) => this.noteEventId(eventId),
        })
      : null;
    this.feed = new FeedFollower(
      this.store,
      this.logger,
      (batch) => this.applyFeedBatch(batch),
      (eventId) => this.mirror?.known(eventId),
    );
    // Another process changed a single-writer store while this one had lost its lock: memory follows the store.
    this.store.onChangedElsewhere(() => {
      this.load().catch((err) => this.logger.error(`Could not reload the ledger after its store changed elsewhere: ${(err as Error).message}`));
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
      this.unobserve ??= ledgerTelemetry.observe({ attributes: telemetryAttributes(this.store), getStorageStats: () => this.getStorageStats() });
      this.scheduler.startTimer();
      this.scheduler.checkHighWaterMark(this.events.length);
    })();
    this.initializing.catch(() => (this.initializing = null));
    return this.initializing;
  }

  /**
   * Replaces memory with the store's content (queued events are written
   * first); events logged meanwhile are kept after it, once. Then follows the
   * store's feed: on a store shared by replicas, memory is the store's content,
   * kept current by the feed (other replicas' events, evictions); on the
   * others, the feed only drives `events$`.
   */
  async load(): Promise<void> {
    await this.store.open();
    // What this ledger logged before the flush is read back from the store, not kept from memory;
    // what it logs from now on is kept unless the read finds it.
    const lastFlushed = this.events.at(-1);
    await this.store.flush();
    await this.feed.stop();
    if (this.mirror) {
      this.mirror.startRebuild();
      await this.feed.start(null);
      return;
    }
    const loaded: RunEvent[] = [];
    for await (const batch of this.store.readBatches()) for (const event of batch) loaded.push(event);
    const meanwhile = this.events.slice(lastFlushed === undefined ? 0 : this.events.lastIndexOf(lastFlushed) + 1);
    const loadedIds = meanwhile.length > 0 ? new Set(loaded.map((e) => e.eventId)) : null;
    this.replaceEvents(loadedIds ? loaded.concat(meanwhile.filter((e) => !loadedIds.has(e.eventId))) : loaded);
    await this.feed.start(undefined);
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
    return this.scheduler.compact();
  }

  /** Whether a compaction is running now. */
  get isCompacting(): boolean {
    return this.scheduler.isRunning;
  }

  /** Resolves when no compaction is running. */
  whenIdle(): Promise<void> {
    return this.scheduler.whenIdle();
  }

  getStorageStats(): Promise<StorageStats> {
    return this.store.getStats();
  }

  /** Whether memory is current with the store's feed; the health indicator reads it. */
  getFeedStatus(): LedgerFeedStatus {
    return this.feed.status();
  }

  /**
   * Stops the timer, waits for a running compaction, writes what is queued, and
   * closes the store (its lock, its connections); the data stays. A final write
   * failure is logged (with the number of events it concerns) and rethrown.
   */
  async close(): Promise<void> {
    this.unobserve?.();
    this.unobserve = null;
    this.scheduler.stopTimer();
    await this.scheduler.whenIdle();
    this.initializing = null;
    await this.feed.stop();
    try {
      await this.store.close();
    } finally {
      this.storedEvents.complete();
    }
  }

  /**
   * The original design's name for {@link close}: it keeps the data (unlike `FileEventStore.destroy()`).
   *
   * @deprecated Use {@link close} (the same).
   */
  destroy(): Promise<void> {
    return this.close();
  }

  getEventStore(): EventStore {
    return this.store;
  }

  protected override append(events: RunEvent[]): void {
    this.store.enqueue(events);
    super.append(events);
    this.mirror?.ownAppended(events);
    this.scheduler.checkHighWaterMark(this.events.length);
  }

  protected override replaceEvents(events: RunEvent[]): void {
    super.replaceEvents(events);
    this.mirror?.memoryReplaced(events);
  }

  /**
   * The store compacts what was queued before the call (its writer writes that first and holds
   * back what is queued after it); memory evicts by the same plan from the events logged before
   * the call, and keeps every event logged after it.
   */
  private async compactOnce(): Promise<number> {
    // Marked by the last event logged before the call: an event set aside meanwhile may shift indices.
    const lastSettled = this.events.at(-1);
    const started = performance.now();
    const evicted = await this.store.compact(this.maxEvents);
    ledgerTelemetry.compacted(telemetryAttributes(this.store), evicted, (performance.now() - started) / 1000);
    // A shared store's feed starts over after a compaction: memory is rebuilt from it, like on every replica.
    if (this.mirror || lastSettled === undefined) return evicted;
    const mark = this.events.lastIndexOf(lastSettled) + 1;
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

  private applyFeedBatch(batch: FeedBatch): void {
    if (!this.mirror) {
      for (const event of batch.events) this.storedEvents.next(event);
      return;
    }
    const { stored, toCheck } = this.mirror.apply(batch);
    for (const event of stored) this.storedEvents.next(event);
    if (toCheck.length > 0) void this.dropEvictedOwnEvents(toCheck);
  }

  /**
   * An own event kept by a rebuild as not delivered yet may have been committed, then evicted by a
   * compaction on another replica before this replica's feed saw it: the feed will never deliver
   * it. Once the candidates are durable, those the store no longer holds leave memory.
   */
  private async dropEvictedOwnEvents(candidates: RunEvent[]): Promise<void> {
    // Until it succeeds (the store may be away for a while), waiting longer each time.
    for (let delayMs = 250, warned = false; this.feed.active; delayMs = Math.min(delayMs * 2, 5_000)) {
      try {
        await this.store.flush();
        const held = await this.store.heldEventIds(candidates.map((e) => e.eventId));
        const dropped = this.mirror!.dropEvicted(candidates, held);
        if (dropped > 0)
          this.logger.log(
            `${dropped} event(s) this replica wrote were evicted by a compaction before its feed delivered them; memory follows the store`,
          );
        return;
      } catch (err) {
        if (!warned) this.logger.warn(`Could not check this replica's own events against the store after a rewrite yet: ${(err as Error).message}`);
        warned = true;
        await new Promise((resolve) => setTimeout(resolve, delayMs));
      }
    }
  }
}

/** Creates a persistent ledger; call `init()` before use to load the store. */
export function createPersistentLedger(config?: PersistentLedgerConfig): PersistentLedger {
  return new PersistentLedger(config);
}
