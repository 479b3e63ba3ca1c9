import { Logger, LoggerService } from '@nestjs/common';
import { Observable, Subject } from 'rxjs';
import { RunEvent } from '../events/run-event.interface';
import { LEDGER_DEFAULTS } from '../options/ledger-defaults';
import { MAX_TIMER_MS, positiveInteger, resolveLedgerOptions } from '../options/ledger-options.resolver';
import { PersistentLedgerConfig } from '../options/persistent-ledger-config.interface';
import { compactionLeaseFor, createStoreFromOptions } from '../storage/create-event-store';
import { EventStore, FeedBatch } from '../storage/event-store';
import { StorageStats } from '../storage/storage-stats.interface';
import { LedgerConfigError } from '../errors/ledger-config.error';
import { planRetention, retentionFilter } from './retention-plan';
import { RunLedger } from './run-ledger';
import { LedgerFeedStatus } from './ledger-feed-status.interface';
import { ledgerTelemetry, telemetryAttributes } from '../metrics/ledger-telemetry';

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
  private readonly stored = new Subject<RunEvent>();
  /** The store's feed this ledger follows (from `load()` to `close()`). */
  private feed: { stop: AbortController; done: Promise<void> } | null = null;
  /**
   * On a shared store, `events[0, committedCount)` are in store order as the
   * feed delivered them; the rest are this replica's own events, logged and
   * not yet seen in the feed (kept so that a replica reads its own writes).
   */
  private committedCount = 0;
  /** On a shared store: `events[committedCount..]` by id, so the feed hands back an own event instead of decoding its row. */
  private undelivered = new Map<string, RunEvent>();
  /** When the feed last confirmed it had caught up, and why it stopped if it did. */
  private feedCaughtUpAt: number | null = null;
  private feedError: Error | null = null;
  private feedPolling: string | null = null;
  /** Ends the report of this ledger's backlog and corrupt lines in the metrics. */
  private unobserve: (() => void) | null = null;
  /** While the feed starts over (first load, a rewrite on any replica): the store's events so far. */
  private rebuilding: RunEvent[] | null = null;

  /**
   * Every newly stored event, once durable, in store order: on PostgreSQL the
   * events of every replica (from the replica feed), on the NDJSON and
   * in-memory stores this process's events once written. Hot: a subscriber
   * sees what is stored after it subscribed; subscribers run synchronously in
   * the feed, so hand slow work off (`observeOn(asapScheduler)`, a queue).
   * Completes at `close()`. To read without gaps across restarts, keep a
   * cursor and use `getEventStore().tail({ after })`.
   */
  readonly events$: Observable<RunEvent> = this.stored.asObservable();

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
      this.startCompactTimer();
      this.compactIfAboveHighWaterMark();
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
    // What this ledger logged before the call is read back from the store, not kept from memory.
    await this.store.flush();
    await this.stopFeed();
    if (this.store.sharedByReplicas) {
      this.rebuilding = [];
      await this.followFeed(null);
      return;
    }
    const mark = this.events.length;
    const loaded: RunEvent[] = [];
    for await (const batch of this.store.readBatches()) for (const event of batch) loaded.push(event);
    if (mark === this.events.length) {
      this.replaceEvents(loaded);
    } else {
      const meanwhile = this.events.slice(mark);
      const meanwhileIds = new Set(meanwhile.map((e) => e.eventId));
      const alreadyLoaded = new Set(loaded.filter((e) => meanwhileIds.has(e.eventId)).map((e) => e.eventId));
      this.replaceEvents(loaded.concat(meanwhile.filter((e) => !alreadyLoaded.has(e.eventId))));
    }
    await this.followFeed(undefined);
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
    this.unobserve?.();
    this.unobserve = null;
    this.stopCompactTimer();
    await this.whenIdle();
    this.initializing = null;
    await this.stopFeed();
    try {
      await this.store.close();
    } finally {
      this.stored.complete();
    }
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
    if (this.store.sharedByReplicas) for (const event of events) this.undelivered.set(event.eventId, event);
    this.compactIfAboveHighWaterMark();
  }

  private compactIfAboveHighWaterMark(): void {
    if (this.highWaterMark > 0 && this.events.length > this.highWaterMark && !this.running) {
      this.compact().catch((err) => this.logger.error(`High-water-mark compaction failed: ${(err as Error).message}`, (err as Error).stack));
    }
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
    if (this.store.sharedByReplicas || lastSettled === undefined) return evicted;
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

  protected override replaceEvents(events: RunEvent[]): void {
    super.replaceEvents(events);
    this.committedCount = Math.min(this.committedCount, events.length);
    if (this.store.sharedByReplicas) this.undelivered = new Map(events.slice(this.committedCount).map((e) => [e.eventId, e]));
  }

  /**
   * Follows the store's feed from `after` in the background; resolves once it
   * has caught up (for a first load, once memory holds the store's content).
   */
  private followFeed(after: string | null | undefined): Promise<void> {
    this.feedError = null;
    const stop = new AbortController();
    let ready!: () => void;
    let failed!: (err: Error) => void;
    const caughtUp = new Promise<void>((resolve, reject) => {
      ready = resolve;
      failed = reject;
    });
    const done = (async () => {
      try {
        const known = (eventId: string) => this.undelivered.get(eventId);
        for await (const batch of this.store.tail({ after, signal: stop.signal, known })) {
          this.feedPolling = batch.polling ?? null;
          this.applyFeedBatch(batch);
          if (batch.caughtUp) {
            this.feedCaughtUpAt = Date.now();
            ready();
          }
        }
        ready();
      } catch (err) {
        failed(err as Error);
        if (!stop.signal.aborted) this.feedError = err as Error;
        if (!stop.signal.aborted) this.logger.error(`The ledger stopped following its store's feed: ${(err as Error).message}`, (err as Error).stack);
      }
    })();
    this.feed = { stop, done };
    return caughtUp;
  }

  /** Whether memory is current with the store's feed; the health indicator reads it. */
  getFeedStatus(): LedgerFeedStatus {
    const following = this.feed !== null && this.feedError === null;
    const lagMs = this.store.sharedByReplicas && this.feedCaughtUpAt !== null ? Date.now() - this.feedCaughtUpAt : null;
    return { following, lagMs, error: this.feedError?.message ?? null, polling: following ? this.feedPolling : null };
  }

  private async stopFeed(): Promise<void> {
    const feed = this.feed;
    this.feed = null;
    if (!feed) return;
    feed.stop.abort();
    await feed.done;
  }

  private applyFeedBatch(batch: FeedBatch): void {
    if (!this.store.sharedByReplicas) {
      for (const event of batch.events) this.stored.next(event);
      return;
    }
    if (batch.reset) this.rebuilding = [];
    if (this.rebuilding) {
      for (const event of batch.events) this.rebuilding.push(event);
      if (batch.caughtUp) this.finishRebuild();
      return;
    }
    for (const event of batch.events) {
      this.commit(event);
      this.stored.next(event);
    }
  }

  /** Memory becomes the store's content as the feed rebuilt it, followed by own events it has not delivered yet. */
  private finishRebuild(): void {
    const rebuilt = this.rebuilding!;
    this.rebuilding = null;
    let pending = this.events.slice(this.committedCount);
    if (pending.length > 0) {
      const pendingIds = new Set(pending.map((e) => e.eventId));
      const delivered = new Set(rebuilt.filter((e) => pendingIds.has(e.eventId)).map((e) => e.eventId));
      pending = pending.filter((e) => !delivered.has(e.eventId));
    }
    this.committedCount = rebuilt.length;
    this.replaceEvents(rebuilt.concat(pending));
    if (pending.length > 0) void this.dropEvictedOwnEvents(pending);
  }

  /**
   * An own event kept by a rebuild as not delivered yet may have been committed, then evicted by a
   * compaction on another replica before this replica's feed saw it: the feed will never deliver
   * it. Once the candidates are durable, those the table no longer holds leave memory (a durable
   * event the table lacks was evicted; one it holds is delivered by the feed in its turn).
   */
  private async dropEvictedOwnEvents(candidates: RunEvent[]): Promise<void> {
    try {
      for (;;) {
        if (this.feed === null) return;
        try {
          await this.store.flush();
          break;
        } catch {
          // The writer retries; look again once it may have succeeded.
          await new Promise((resolve) => setTimeout(resolve, 250));
        }
      }
      const held = await this.store.heldEventIds(candidates.map((e) => e.eventId));
      const evicted = new Set(candidates.filter((e) => !held.has(e.eventId) && this.undelivered.has(e.eventId)).map((e) => e.eventId));
      if (evicted.size === 0) return;
      this.replaceEvents(this.events.filter((e) => !evicted.has(e.eventId)));
      this.logger.log(
        `${evicted.size} event(s) this replica wrote were evicted by a compaction before its feed delivered them; memory follows the store`,
      );
    } catch (err) {
      if (this.feed !== null)
        this.logger.warn(`Could not check this replica's own events against the store after a rewrite: ${(err as Error).message}`);
    }
  }

  /** Puts an event the feed delivered at the end of the committed part (an own event moves there from the pending part). */
  private commit(event: RunEvent): void {
    this.undelivered.delete(event.eventId);
    const at = this.committedCount;
    this.committedCount++;
    if (at === this.events.length) {
      this.events.push(event);
      this.noteEventId(event.eventId);
      return;
    }
    if (this.events[at].eventId === event.eventId) return;
    for (let i = at + 1; i < this.events.length; i++) {
      if (this.events[i].eventId === event.eventId) {
        const [own] = this.events.splice(i, 1);
        this.events.splice(at, 0, own);
        return;
      }
    }
    this.events.splice(at, 0, event);
    this.noteEventId(event.eventId);
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
