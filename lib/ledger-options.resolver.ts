import { validateCronExpression } from 'cron';
import { LedgerConfigError } from './errors/ledger-config.error';
import { DEFAULT_COMPACTION_CRON } from './ledger.constants';
import { LedgerCompactionOption, LedgerModuleOptions, LedgerStorageOption } from './interfaces/ledger-module-options.interface';
import { loadPg } from './postgres/load-pg';
import { sqlIdentifier } from './postgres/sql-identifier';
import { DEFAULT_MAX_EVENTS, DEFAULT_STORAGE_PATH } from './persistent-ledger';
import { DEFAULT_MAX_EVENT_BYTES } from './run-event.validator';
import { DEFAULT_LOCK_STALE_MS } from './file/file-lock';

/** Module options after validation, with every default applied. */
export interface ResolvedLedgerOptions extends LedgerModuleOptions {
  storagePath: string;
  maxEvents: number;
  enableWAL: boolean;
  compaction: LedgerCompactionOption;
  storage: LedgerStorageOption;
  highWaterMark: number;
  lockStaleMs: number;
  maxEventBytes: number;
}

function positiveInteger(option: string, value: unknown, fallback: number, allowZero = false): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < (allowZero ? 0 : 1)) {
    throw new LedgerConfigError(option, `must be ${allowZero ? 'a non-negative' : 'a positive'} integer (got ${String(value)})`);
  }
  return value;
}

function resolveCompaction(value: unknown): LedgerCompactionOption {
  if (value === undefined) return { cron: DEFAULT_COMPACTION_CRON };
  if (value === false) return false;
  if (value && typeof value === 'object' && 'cron' in value) {
    const { cron, timeZone } = value as { cron: unknown; timeZone?: unknown };
    if (typeof cron !== 'string') throw new LedgerConfigError('compaction.cron', 'must be a cron expression string');
    const check = validateCronExpression(cron);
    if (!check.valid) throw new LedgerConfigError('compaction.cron', `"${cron}" is not a valid cron expression (${check.error?.message ?? 'unparseable'})`);
    if (timeZone !== undefined && typeof timeZone !== 'string') throw new LedgerConfigError('compaction.timeZone', 'must be an IANA time zone name');
    return { cron, ...(timeZone ? { timeZone } : {}) };
  }
  if (value && typeof value === 'object' && 'intervalMs' in value) {
    return { intervalMs: positiveInteger('compaction.intervalMs', (value as { intervalMs: unknown }).intervalMs, 0) };
  }
  throw new LedgerConfigError('compaction', "must be { cron: '...' }, { intervalMs: n } or false");
}

function resolveStorage(value: unknown): LedgerStorageOption {
  if (value === undefined) return { type: 'ndjson' };
  const storage = value as LedgerStorageOption;
  if (!storage || typeof storage !== 'object' || (storage.type !== 'ndjson' && storage.type !== 'postgres')) {
    throw new LedgerConfigError('storage', "must be { type: 'ndjson' } or { type: 'postgres', connectionString | pool }");
  }
  if (storage.type === 'postgres') {
    if (!storage.pool && (typeof storage.connectionString !== 'string' || storage.connectionString.length === 0)) {
      throw new LedgerConfigError('storage.connectionString', 'is required for the PostgreSQL storage (or give storage.pool)');
    }
    if (storage.schema !== undefined) sqlIdentifier('storage.schema', storage.schema);
    if (storage.table !== undefined) sqlIdentifier('storage.table', storage.table);
    if (storage.compactionLeaseMs !== undefined) positiveInteger('storage.compactionLeaseMs', storage.compactionLeaseMs, 0);
    if (!storage.pool) loadPg();
  }
  return storage;
}

/**
 * Validates module options and applies defaults.
 *
 * @throws LedgerConfigError naming the first invalid option.
 */
export function resolveLedgerOptions(options: LedgerModuleOptions = {}): ResolvedLedgerOptions {
  const storagePath = options.storagePath ?? DEFAULT_STORAGE_PATH;
  if (typeof storagePath !== 'string' || storagePath.trim().length === 0) {
    throw new LedgerConfigError('storagePath', 'must be a non-empty directory path');
  }
  const maxEvents = positiveInteger('maxEvents', options.maxEvents, DEFAULT_MAX_EVENTS);
  const highWaterMark = positiveInteger('highWaterMark', options.highWaterMark, maxEvents * 2, true);
  if (highWaterMark !== 0 && highWaterMark < maxEvents) {
    throw new LedgerConfigError('highWaterMark', `must be 0 (off) or at least maxEvents (${maxEvents})`);
  }
  if (options.enableWAL !== undefined && typeof options.enableWAL !== 'boolean') {
    throw new LedgerConfigError('enableWAL', 'must be a boolean');
  }
  if (options.evaluators !== undefined) {
    if (!Array.isArray(options.evaluators)) throw new LedgerConfigError('evaluators', 'must be an array of evaluators');
    options.evaluators.forEach((e, i) => {
      if (!e || typeof e.name !== 'string' || typeof e.evaluate !== 'function') {
        throw new LedgerConfigError(`evaluators[${i}]`, 'must have a string name and an evaluate(event) function');
      }
    });
  }
  return {
    ...options,
    storagePath,
    maxEvents,
    highWaterMark,
    enableWAL: options.enableWAL ?? true,
    compaction: resolveCompaction(options.compaction),
    storage: resolveStorage(options.storage),
    lockStaleMs: positiveInteger('lockStaleMs', options.lockStaleMs, DEFAULT_LOCK_STALE_MS),
    maxEventBytes: positiveInteger('maxEventBytes', options.maxEventBytes, DEFAULT_MAX_EVENT_BYTES),
  };
}
