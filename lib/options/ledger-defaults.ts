/**
 * Every default of the ledger, in one place: the module, `createPersistentLedger`
 * and the stores all read them from here.
 */
export const LEDGER_DEFAULTS = {
  /** Directory of the NDJSON store. */
  storagePath: '.ledger',
  /** Retention: compaction keeps the newest this many events. */
  maxEvents: 10_000,
  /** Write each event in the background as it is logged (group commit). */
  autoFlush: true,
  /** The compaction schedule of the module: hourly. */
  compactionCron: '0 * * * *',
  /** The compaction timer of a ledger made outside Nest: hourly. */
  compactIntervalMs: 60 * 60 * 1000,
  /** `highWaterMark` is this many times `maxEvents`. */
  highWaterMarkFactor: 2,
  /** An event field the schema does not have: refused when named like a standard one (a likely typo), else kept. */
  unknownFields: 'refuse-typos',
  /** Largest string, and largest serialised event, in bytes. */
  maxEventBytes: 4 * 1024 * 1024,
  /** A file lock not refreshed for this long is taken over. */
  lockStaleMs: 30_000,
  /** How often a PostgreSQL feed looks for new rows without a notification. */
  feedPollIntervalMs: 1_000,
  /** Longest PostgreSQL compaction lease (it is also at most half the time between two ticks). */
  compactionLeaseMs: 30_000,
  /** Startup retries of a PostgreSQL storage that cannot be opened (after the first attempt). */
  startupRetryAttempts: 9,
  /** Wait before the first startup retry (doubling after each failure, up to 10 s). */
  startupRetryDelayMs: 1_000,
  /** Violations per event the `violation-rate` evaluator allows. */
  maxViolations: 0,
  /** Rework ratio the `diff-quality` evaluator allows. */
  maxReworkRatio: 0.3,
} as const;

/** `LEDGER_DEFAULTS.maxEventBytes` under its earlier name (kept for compatibility). */
export const DEFAULT_MAX_EVENT_BYTES = LEDGER_DEFAULTS.maxEventBytes;
