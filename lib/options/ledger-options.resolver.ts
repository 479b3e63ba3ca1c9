import { LedgerConfigError } from '../errors/ledger-config.error';
import { loadCron } from '../peers/load-cron';
import type { UnknownFieldsPolicy } from '../events/run-event.validator';
import type { EventStore } from '../storage/event-store';
import { checkPostgresStorageOptions } from '../storage/postgres/postgres-storage-options.check';
import { LEDGER_DEFAULTS } from './ledger-defaults';
import { LedgerCompactionOption, LedgerModuleOptions, LedgerOptions, LedgerStorageOption } from './ledger-options.interface';
import { MAX_TIMER_MS, describeValue, positiveInteger, refuseUnknownKeys } from './option-checks';

export { MAX_TIMER_MS, positiveInteger } from './option-checks';

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

/** What a valid `compaction.cron` looks like, for its error message. */
const CRON_SHAPE =
  'expected 5 fields (minute hour day-of-month month day-of-week) such as "0 * * * *" (every hour), 6 with seconds first, or an alias such as "@hourly" or "@daily"';
/** The aliases the `cron` package knows. */
const CRON_ALIASES = ['@yearly', '@monthly', '@weekly', '@daily', '@hourly', '@minutely', '@secondly', '@weekdays', '@weekends'];

/**
 * Why `expression` is not a cron expression, in words: the parser's own message is cryptic where it
 * met letters (it reads them three at a time as month or day names: "every" gives "Unknown alias: eve").
 */
function whyNotCron(expression: string, parserMessage = 'unparseable'): string {
  const fields = expression.trim().split(/\s+/).filter(Boolean);
  if (fields.length === 1 && fields[0].startsWith('@')) return `unknown alias; known: ${CRON_ALIASES.join(', ')}`;
  if (fields.length !== 5 && fields.length !== 6) return `it has ${fields.length} field${fields.length === 1 ? '' : 's'}`;
  const alias = /^Unknown alias: (.*)$/.exec(parserMessage)?.[1]?.toLowerCase();
  const field = alias === undefined ? undefined : fields.find((f) => f.toLowerCase().includes(alias));
  if (field !== undefined) return `"${field}" is not a number, range, step or month or day name`;
  return parserMessage.charAt(0).toLowerCase() + parserMessage.slice(1);
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
      throw new LedgerConfigError(
        'compaction.cron',
        `"${cron}" is not a valid cron expression (${whyNotCron(cron, check.error?.message)}): ${CRON_SHAPE}`,
      );
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
  if (storage.type === 'postgres') checkPostgresStorageOptions(storage);
  else refuseUnknownKeys('storage.', storage, ['type']);
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
