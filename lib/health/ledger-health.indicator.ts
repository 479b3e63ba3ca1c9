import { Injectable } from '@nestjs/common';
import { PersistentLedger } from '../ledger/persistent-ledger';
import { LedgerFeedStatus } from '../ledger/ledger-feed-status.interface';
import { StorageStats } from '../storage/storage-stats.interface';

/** Bounds of {@link LedgerHealthIndicator.isHealthy}. */
export interface LedgerHealthOptions {
  /** Down when more events than this wait unwritten in memory. @default 10000 */
  maxPendingEvents?: number | undefined;
  /** PostgreSQL: down when the replica feed has not caught up for this long (ms). @default 30000 */
  maxFeedLagMs?: number | undefined;
}

/** The details of a ledger health result: the store's stats, the feed's state, and why it is down. */
export interface LedgerHealthDetails extends StorageStats {
  status: 'up' | 'down';
  feed: LedgerFeedStatus;
  /** What makes it down (empty when up). */
  problems: string[];
  /** What works in a degraded way without making it down (e.g. the replica feed polling because `LISTEN` failed). */
  warnings: string[];
}

/**
 * A health indicator for `@nestjs/terminus` (10.2 and later, 11, 12): returns a result in terminus's
 * shape, `{ [key]: { status: 'up' | 'down', ...details } }`, which `HealthCheckService.check()`
 * turns into 200 or 503. Down when the last write failed, when the unwritten backlog exceeds
 * `maxPendingEvents`, when the NDJSON store's lock was lost, when PostgreSQL does not answer
 * (the counts are stale), or when the replica feed lags beyond `maxFeedLagMs` or stopped.
 * The details are the store's stats, the feed's state, the problems found, and warnings (up, but
 * degraded: the replica feed polling because `LISTEN` failed).
 *
 * Provided and exported by `LedgerModule`:
 * `this.health.check([() => this.ledgerHealth.isHealthy('ledger')])`.
 * Needs no terminus import of its own, so the library does not depend on terminus.
 */
@Injectable()
export class LedgerHealthIndicator {
  constructor(private readonly ledger: PersistentLedger) {}

  async isHealthy<const Key extends string = 'ledger'>(
    key: Key = 'ledger' as Key,
    options: LedgerHealthOptions = {},
  ): Promise<Record<Key, LedgerHealthDetails>> {
    const maxPendingEvents = options.maxPendingEvents ?? 10_000;
    const maxFeedLagMs = options.maxFeedLagMs ?? 30_000;
    const stats = await this.ledger.getStorageStats();
    const feed = this.ledger.getFeedStatus();
    const problems: string[] = [];
    if (!stats.lastWriteOk) problems.push(`the last write failed: ${stats.lastWriteError}`);
    if (stats.pendingEvents > maxPendingEvents) problems.push(`${stats.pendingEvents} events wait unwritten (more than ${maxPendingEvents})`);
    if (stats.lockLost) problems.push('the store lock was lost: another process may be writing the same store');
    if (stats.countsStale) problems.push('the storage does not answer');
    if (feed.error !== null) problems.push(`the replica feed stopped: ${feed.error}`);
    else if (feed.lagMs !== null && feed.lagMs > maxFeedLagMs) problems.push(`the replica feed has not caught up for ${feed.lagMs} ms`);
    const warnings = feed.polling !== null ? [`the replica feed only polls: ${feed.polling}`] : [];
    const details: LedgerHealthDetails = { status: problems.length === 0 ? 'up' : 'down', ...stats, feed, problems, warnings };
    return { [key]: details } as Record<Key, LedgerHealthDetails>;
  }
}
