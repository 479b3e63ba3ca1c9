/** Validation of the PostgreSQL `storage` option, called by the options resolver. */
import { LedgerConfigError } from '../../errors/ledger-config.error';
import { MAX_TIMER_MS, describeValue, positiveInteger, refuseUnknownKeys } from '../../options/option-checks';
import { loadPg } from '../../peers/load-pg';
import type { PostgresStorageOptions } from './postgres-storage-options.interface';
import { sqlIdentifier } from './sql-identifier';

/** The keys of `storage: { type: 'postgres', ... }`, in the order error messages list them (one entry per option, so none is forgotten). */
const POSTGRES_STORAGE_KEYS: Record<'type' | keyof PostgresStorageOptions, true> = {
  type: true,
  connectionString: true,
  pool: true,
  schema: true,
  table: true,
  compactionLeaseMs: true,
  listen: true,
  pollIntervalMs: true,
  retryAttempts: true,
  retryDelayMs: true,
};

/**
 * Validates the `storage: { type: 'postgres', ... }` option (its keys, a connection, identifiers,
 * intervals, the startup retry) and that `pg` is installed when the store will make its own pool.
 *
 * @throws LedgerConfigError naming the first invalid option.
 */
export function checkPostgresStorageOptions(storage: PostgresStorageOptions): void {
  refuseUnknownKeys('storage.', storage, Object.keys(POSTGRES_STORAGE_KEYS));
  if (!storage.pool && (typeof storage.connectionString !== 'string' || storage.connectionString.length === 0)) {
    throw new LedgerConfigError('storage.connectionString', 'is required for the PostgreSQL storage (or give storage.pool)');
  }
  if (storage.schema !== undefined) sqlIdentifier('storage.schema', storage.schema);
  if (storage.table !== undefined) sqlIdentifier('storage.table', storage.table);
  if (storage.compactionLeaseMs !== undefined) positiveInteger('storage.compactionLeaseMs', storage.compactionLeaseMs, 0);
  if (storage.pollIntervalMs !== undefined) positiveInteger('storage.pollIntervalMs', storage.pollIntervalMs, 0);
  positiveInteger('storage.retryAttempts', storage.retryAttempts, 0, true);
  if (positiveInteger('storage.retryDelayMs', storage.retryDelayMs, 0, true) > MAX_TIMER_MS) {
    throw new LedgerConfigError('storage.retryDelayMs', `must be at most ${MAX_TIMER_MS} ms (the longest Node.js timer)`);
  }
  if (storage.listen !== undefined && typeof storage.listen !== 'boolean') {
    throw new LedgerConfigError('storage.listen', `must be a boolean (got ${describeValue(storage.listen)})`);
  }
  if (!storage.pool) loadPg();
}
