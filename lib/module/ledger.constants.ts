import { LEDGER_DEFAULTS } from '../options/ledger-defaults';

/** Name under which the compaction job is registered in `SchedulerRegistry` (a cron job, or an interval for `{ intervalMs }`). */
export const LEDGER_COMPACTION_JOB = 'nestjs-ledger:compaction';

/** Injection token of the validated options, defaults applied. */
export const LEDGER_RESOLVED_OPTIONS = 'NESTJS_LEDGER:RESOLVED_OPTIONS';

/**
 * Default compaction schedule: at minute 0 of every hour.
 * @deprecated Use `LEDGER_DEFAULTS.compactionCron` (every default is there).
 */
export const DEFAULT_COMPACTION_CRON = LEDGER_DEFAULTS.compactionCron;
