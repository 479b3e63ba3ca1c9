import { Logger, Provider } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { LedgerConfigError } from '../errors/ledger-config.error';
import { PersistentLedger } from '../ledger/persistent-ledger';
import { LedgerCompactionOption, LedgerModuleOptions } from '../options/ledger-options.interface';
import { ResolvedModuleOptions, resolveModuleOptions } from '../options/ledger-options.resolver';
import { compactionLeaseFor, createStoreFromOptions } from '../storage/store-from-options';
import { EventStore } from '../storage/event-store';
import { LEDGER_COMPACTION_JOB, LEDGER_RESOLVED_OPTIONS } from './ledger.constants';
import { MODULE_OPTIONS_TOKEN } from './ledger.module-definition';
import { loadCron } from '../peers/load-cron';

/** The compaction lease for the module's schedule: half the time between two ticks, at most 30 s. */
export function defaultCompactionLeaseMs(compaction: LedgerCompactionOption): number {
  if (compaction === false) return compactionLeaseFor(Infinity);
  if ('intervalMs' in compaction) return compactionLeaseFor(compaction.intervalMs);
  const [first, second] = new (loadCron().CronTime)(compaction.cron, compaction.timeZone).sendAt(2);
  return compactionLeaseFor(second.toMillis() - first.toMillis());
}

/** Scheduler registries (one per application) in which a ledger has claimed the compaction job's name. */
const claimedRegistries = new WeakSet<SchedulerRegistry>();

/**
 * Claims the compaction job's name in this application before any store is
 * opened, so a second `LedgerModule.forRoot()` with compaction fails with a
 * clear error instead of `@nestjs/schedule`'s duplicate-name error at bootstrap.
 */
function claimCompactionJob(registry: SchedulerRegistry): void {
  if (claimedRegistries.has(registry)) {
    throw new LedgerConfigError(
      'compaction',
      `LedgerModule.forRoot() is imported more than once in this application with compaction on (the job "${LEDGER_COMPACTION_JOB}" can run once): ` +
        'import it once (isGlobal: true makes it visible everywhere), or set compaction: false on the other imports',
    );
  }
  claimedRegistries.add(registry);
}

/** Releases the claim at shutdown, so an application context built again on the same registry can claim it. */
export function releaseCompactionJob(registry: SchedulerRegistry | undefined): void {
  if (registry) claimedRegistries.delete(registry);
}

/** The providers both `forRoot` and `forRootAsync` share: options validated once, then the store and the loaded ledger. */
export const ledgerProviders: Provider[] = [
  {
    provide: LEDGER_RESOLVED_OPTIONS,
    useFactory: (options: LedgerModuleOptions, schedulerRegistry?: SchedulerRegistry) => {
      const resolved = resolveModuleOptions(options);
      // Checked here, before the store is opened, so a misconfigured app fails without taking the lock.
      if (resolved.compaction !== false && !schedulerRegistry) {
        throw new LedgerConfigError(
          'compaction',
          'scheduling needs ScheduleModule.forRoot() imported by your application module (or set compaction: false)',
        );
      }
      if (resolved.compaction !== false) claimCompactionJob(schedulerRegistry!);
      return resolved;
    },
    inject: [MODULE_OPTIONS_TOKEN, { token: SchedulerRegistry, optional: true }],
  },
  {
    provide: EventStore,
    useFactory: (options: ResolvedModuleOptions) =>
      createStoreFromOptions(options, { compactionLeaseMs: defaultCompactionLeaseMs(options.compaction), logger: new Logger('LedgerStore') }),
    inject: [LEDGER_RESOLVED_OPTIONS],
  },
  {
    provide: PersistentLedger,
    useFactory: async ({ compaction: _scheduledByTheModule, ...options }: ResolvedModuleOptions, store: EventStore) => {
      const ledger = new PersistentLedger({
        ...options,
        store,
        // The module schedules compaction through @nestjs/schedule instead of a private timer.
        compactIntervalMs: 0,
        logger: new Logger('PersistentLedger'),
      });
      await ledger.init();
      return ledger;
    },
    inject: [LEDGER_RESOLVED_OPTIONS, EventStore],
  },
];
