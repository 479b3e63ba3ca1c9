import { Logger, LoggerService } from '@nestjs/common';
import { LEDGER_DEFAULTS } from '../options/ledger-defaults';
import { ResolvedLedgerOptions } from '../options/ledger-options.resolver';
import { EventStore } from './event-store';
import { FileEventStore } from './file/file-event.store';
import { PostgresEventStore } from './postgres/postgres-event.store';

/**
 * Compaction calls of all replicas within the lease count as one tick, so the
 * lease must be shorter than the time between ticks: half of it, at most 30 s.
 */
export function compactionLeaseFor(msBetweenTicks: number): number {
  return Math.min(LEDGER_DEFAULTS.compactionLeaseMs, Math.floor(msBetweenTicks / 2));
}

/**
 * The one store factory: the store the options describe (`options.store` when
 * given, otherwise a PostgreSQL or NDJSON store), for the module and for
 * `createPersistentLedger` alike.
 */
export function createStoreFromOptions(
  options: ResolvedLedgerOptions,
  extras: { compactionLeaseMs: number; logger?: LoggerService | undefined },
): EventStore {
  if (options.store) return options.store;
  const logger = extras.logger ?? new Logger('LedgerStore');
  if (options.storage.type === 'postgres') {
    const { type: _type, compactionLeaseMs, ...connection } = options.storage;
    return new PostgresEventStore({
      ...connection,
      autoFlush: options.autoFlush,
      maxEventBytes: options.maxEventBytes,
      compactionLeaseMs: compactionLeaseMs ?? extras.compactionLeaseMs,
      logger,
    });
  }
  return new FileEventStore({
    storagePath: options.storagePath,
    autoFlush: options.autoFlush,
    maxEventBytes: options.maxEventBytes,
    lockStaleMs: options.lockStaleMs,
    logger,
  });
}
