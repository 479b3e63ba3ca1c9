/** Loading the `cron` package of the application's `@nestjs/schedule` (an optional peer). */
import { createRequire } from 'node:module';
import type * as Cron from 'cron';

let cron: typeof Cron | null = null;

/**
 * The `cron` package of the application's `@nestjs/schedule`, resolved from
 * that package's own location. The ledger has no `cron` of its own, so the job
 * it registers is always the kind of object `SchedulerRegistry` holds: one copy
 * of `cron` in the app, whichever `@nestjs/schedule` major is installed.
 */
export function loadCron(): typeof Cron {
  cron ??= createRequire(require.resolve('@nestjs/schedule/package.json'))('cron') as typeof Cron;
  return cron;
}
