import { LedgerConfigError } from '../errors/ledger-config.error';
import { loadCron } from '../module/load-cron';
import type { UnknownFieldsPolicy } from '../events/run-event.validator';
import type { EventStore } from '../storage/event-store';
import { loadPg } from '../storage/postgres/load-pg';
import { sqlIdentifier } from '../storage/postgres/sql-identifier';
import { closestName } from './closest-name';
import { LEDGER_DEFAULTS } from './ledger-defaults';
import { LedgerCompactionOption, LedgerModuleOptions, LedgerOptions, LedgerStorageOption } from './ledger-options.interface';

/** Options after validation, with every default applied. */
export interface ResolvedLedgerOptions extends LedgerOptions {
  storagePath: string;
  maxEvents: number;
  autoFlush: boolean;
  storage: LedgerStorageOption;
  highWaterMark: number;
  lockStaleMs: number;
  maxEventBytes: number;
  unknownFields: UnknownFieldsPolicy;
}

/** Module options after validation, with every default applied. */
export interface ResolvedModuleOptions extends ResolvedLedgerOptions {
  compaction: LedgerCompactionOption;
}

/** Longest delay a Node.js timer takes; a longer one fires after 1 ms instead. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** Every option `LedgerOptions` declares; anything else is refused as a likely typo. */
const LEDGER_OPTION_KEYS = [
  'storagePath',
  'maxEvents',
  'autoFlush',
  'enableWAL',
  'highWaterMark',
  'lockStaleMs',
  'storage',
  'store',
  'evaluators',
  'maxEventBytes',
  'unknownFields',
  'forbiddenCommandPatterns',
  'forbiddenDependencies',
  'maxViolations',
  'maxReworkRatio',
] as const;
const UNKNOWN_FIELDS_POLICIES: readonly UnknownFieldsPolicy[] = ['refuse-typos', 'refuse', 'keep'];
const CRON_KEYS = ['cron', 'timeZone'];
const INTERVAL_KEYS = ['intervalMs'];
const POSTGRES_KEYS = ['type', 'connectionString', 'pool', 'schema', 'table', 'compactionLeaseMs', 'listen', 'pollIntervalMs'];

/** A value as an error message shows it: its type, and the value where that helps (`string "5000"`). */
function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value)}`;
  if (typeof value === 'number') return `number ${String(value)}`;
  if (typeof value === 'object') return 'an object';
  return typeof value;
}

/** Refuses keys of `value` that are not in `known`, naming the closest known key. */
function refuseUnknownKeys(prefix: string, value: object, known: readonly string[]): void {
  for (const key of Object.keys(value)) {
    if (known.includes(key)) continue;
    const closest = closestName(key, known);
    const hint = closest === undefined ? '' : `; did you mean "${prefix}${closest}"?`;
    throw new LedgerConfigError(`${prefix}${key}`, `is not a nestjs-ledger option${hint} (known: ${known.join(', ')})`);
  }
}

/** Checks an integer option; `undefined` gives `fallback`. */
export function positiveInteger(option: string, value: unknown, fallback: number, allowZero = false): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < (allowZero ? 0 : 1)) {
    throw new LedgerConfigError(option, `must be ${allowZero ? 'a non-negative' : 'a positive'} integer (got ${describeValue(value)})`);
  }
  return value;
}

function nonNegativeNumber(option: string, value: unknown): void {
  if (value !== undefined && (typeof value !== 'number' || !(value >= 0) || value === Infinity)) {
    throw new LedgerConfigError(option, `must be a non-negative number (got ${describeValue(value)})`);
  }
}

function arrayOf(option: string, value: unknown, item: { one: string; many: string }, check: (item: unknown) => boolean): void {
  if (value === undefined) return;
  if (!Array.isArray(value)) throw new LedgerConfigError(option, `must be an array of ${item.many} (got ${describeValue(value)})`);
  value.forEach((element, i) => {
    if (!check(element)) throw new LedgerConfigError(`${option}[${i}]`, `must be ${item.one} (got ${describeValue(element)})`);
  });
}

function resolveCompaction(value: unknown): LedgerCompactionOption {
  if (value === undefined) return { cron: LEDGER_DEFAULTS.compactionCron };
  if (value === false) return false;
  if (value && typeof value === 'object' && 'cron' in value) {
    refuseUnknownKeys('compaction.', value, CRON_KEYS);
    const { cron, timeZone } = value as { cron: unknown; timeZone?: unknown };
    if (typeof cron !== 'string') throw new LedgerConfigError('compaction.cron', `must be a cron expression string (got ${describeValue(cron)})`);
    const { CronTime, validateCronExpression } = loadCron();
    const check = validateCronExpression(cron);
    if (!check.valid)
      throw new LedgerConfigError('compaction.cron', `"${cron}" is not a valid cron expression (${check.error?.message ?? 'unparseable'})`);
    if (timeZone !== undefined && typeof timeZone !== 'string') {
      throw new LedgerConfigError('compaction.timeZone', `must be an IANA time zone name such as "Europe/Paris" (got ${describeValue(timeZone)})`);
    }
    if (timeZone) {
      try {
        new CronTime(cron, timeZone);
      } catch {
        throw new LedgerConfigError('compaction.timeZone', `"${timeZone}" is not a known IANA time zone (such as "Europe/Paris" or "UTC")`);
      }
    }
    return { cron, ...(timeZone ? { timeZone } : {}) };
  }
  if (value && typeof value === 'object' && 'intervalMs' in value) {
    refuseUnknownKeys('compaction.', value, INTERVAL_KEYS);
    // Unset (what a config lookup gives for a missing key) is refused like 0, rather than defaulted.
    const intervalMs = (value as { intervalMs: unknown }).intervalMs;
    if (intervalMs === undefined) throw new LedgerConfigError('compaction.intervalMs', 'must be a positive integer of milliseconds (got undefined)');
    positiveInteger('compaction.intervalMs', intervalMs, 0);
    if ((intervalMs as number) > MAX_TIMER_MS) {
      throw new LedgerConfigError(
        'compaction.intervalMs',
        `must be at most ${MAX_TIMER_MS} ms (about 24.8 days, the longest Node.js timer); use a cron expression for longer periods`,
      );
    }
    return { intervalMs: intervalMs as number };
  }
  throw new LedgerConfigError('compaction', `must be { cron: '...' }, { intervalMs: n } or false (got ${describeValue(value)})`);
}

function resolveStorage(value: unknown): LedgerStorageOption {
  if (value === undefined) return { type: 'ndjson' };
  const storage = value as LedgerStorageOption;
  if (!storage || typeof storage !== 'object' || (storage.type !== 'ndjson' && storage.type !== 'postgres')) {
    throw new LedgerConfigError('storage', "must be { type: 'ndjson' } or { type: 'postgres', connectionString | pool }");
  }
  refuseUnknownKeys('storage.', storage, storage.type === 'postgres' ? POSTGRES_KEYS : ['type']);
  if (storage.type === 'postgres') {
    if (!storage.pool && (typeof storage.connectionString !== 'string' || storage.connectionString.length === 0)) {
      throw new LedgerConfigError('storage.connectionString', 'is required for the PostgreSQL storage (or give storage.pool)');
    }
    if (storage.schema !== undefined) sqlIdentifier('storage.schema', storage.schema);
    if (storage.table !== undefined) sqlIdentifier('storage.table', storage.table);
    if (storage.compactionLeaseMs !== undefined) positiveInteger('storage.compactionLeaseMs', storage.compactionLeaseMs, 0);
    if (storage.pollIntervalMs !== undefined) positiveInteger('storage.pollIntervalMs', storage.pollIntervalMs, 0);
    if (storage.listen !== undefined && typeof storage.listen !== 'boolean') {
      throw new LedgerConfigError('storage.listen', `must be a boolean (got ${describeValue(storage.listen)})`);
    }
    if (!storage.pool) loadPg();
  }
  return storage;
}

/**
 * Validates the options every ledger takes and applies their defaults.
 * `extraKeys` are the other keys the caller understands (and checks itself).
 *
 * @throws LedgerConfigError naming the first invalid option, or an unknown key and the closest known one.
 */
export function resolveLedgerOptions(options: LedgerOptions = {}, extraKeys: readonly string[] = []): ResolvedLedgerOptions {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new LedgerConfigError('options', `must be an object (got ${describeValue(options)})`);
  }
  refuseUnknownKeys('', options, [...LEDGER_OPTION_KEYS, ...extraKeys]);
  const storagePath = options.storagePath ?? LEDGER_DEFAULTS.storagePath;
  if (typeof storagePath !== 'string' || storagePath.trim().length === 0) {
    throw new LedgerConfigError('storagePath', `must be a non-empty directory path (got ${describeValue(storagePath)})`);
  }
  const maxEvents = positiveInteger('maxEvents', options.maxEvents, LEDGER_DEFAULTS.maxEvents);
  const highWaterMark = positiveInteger('highWaterMark', options.highWaterMark, maxEvents * LEDGER_DEFAULTS.highWaterMarkFactor, true);
  if (highWaterMark !== 0 && highWaterMark < maxEvents) {
    throw new LedgerConfigError('highWaterMark', `must be 0 (off) or at least maxEvents (${maxEvents})`);
  }
  for (const key of ['autoFlush', 'enableWAL'] as const) {
    if (options[key] !== undefined && typeof options[key] !== 'boolean') {
      throw new LedgerConfigError(key, `must be a boolean (got ${describeValue(options[key])})`);
    }
  }
  if (options.autoFlush !== undefined && options.enableWAL !== undefined && options.autoFlush !== options.enableWAL) {
    throw new LedgerConfigError('enableWAL', 'is the deprecated name of autoFlush, and the two disagree: give autoFlush only');
  }
  arrayOf('forbiddenCommandPatterns', options.forbiddenCommandPatterns, { one: 'a RegExp', many: 'RegExps' }, (p) => p instanceof RegExp);
  arrayOf(
    'forbiddenDependencies',
    options.forbiddenDependencies,
    { one: 'a package name', many: 'package names' },
    (d) => typeof d === 'string' && d.length > 0,
  );
  const unknownFields = options.unknownFields ?? LEDGER_DEFAULTS.unknownFields;
  if (!UNKNOWN_FIELDS_POLICIES.includes(unknownFields)) {
    throw new LedgerConfigError('unknownFields', `must be 'refuse-typos', 'refuse' or 'keep' (got ${describeValue(unknownFields)})`);
  }
  positiveInteger('maxViolations', options.maxViolations, 0, true);
  nonNegativeNumber('maxReworkRatio', options.maxReworkRatio);
  const store = options.store as Partial<Record<keyof EventStore, unknown>> | undefined;
  if (
    store !== undefined &&
    (store === null || typeof store !== 'object' || typeof store.enqueue !== 'function' || typeof store.readBatches !== 'function')
  ) {
    throw new LedgerConfigError('store', `must be an EventStore instance (got ${describeValue(options.store)})`);
  }
  if (options.evaluators !== undefined) {
    if (!Array.isArray(options.evaluators)) throw new LedgerConfigError('evaluators', 'must be an array of evaluators');
    options.evaluators.forEach((e, i) => {
      if (!e || typeof e.name !== 'string' || typeof e.evaluate !== 'function') {
        throw new LedgerConfigError(`evaluators[${i}]`, 'must have a string name and an evaluate(event) function');
      }
    });
  }
  const { enableWAL: _deprecated, ...rest } = options;
  return {
    ...rest,
    storagePath,
    maxEvents,
    highWaterMark,
    autoFlush: options.autoFlush ?? options.enableWAL ?? LEDGER_DEFAULTS.autoFlush,
    storage: resolveStorage(options.storage),
    lockStaleMs: positiveInteger('lockStaleMs', options.lockStaleMs, LEDGER_DEFAULTS.lockStaleMs),
    maxEventBytes: positiveInteger('maxEventBytes', options.maxEventBytes, LEDGER_DEFAULTS.maxEventBytes),
    unknownFields,
  };
}

/**
 * Validates `LedgerModule` options (those of every ledger, and `compaction`) and applies defaults.
 *
 * @throws LedgerConfigError naming the first invalid option.
 */
export function resolveModuleOptions(options: LedgerModuleOptions = {}): ResolvedModuleOptions {
  const resolved = resolveLedgerOptions(options, ['compaction']);
  return { ...resolved, compaction: resolveCompaction(options.compaction) };
}
