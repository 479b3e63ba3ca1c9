import { Logger, Provider } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { LedgerConfigError } from '../errors/ledger-config.error';
import { EventStore } from '../storage/event-store';
import { FileEventStore } from '../storage/file/file-event.store';
import { LEDGER_COMPACTION_JOB, LEDGER_RESOLVED_OPTIONS } from './ledger.constants';
import { MODULE_OPTIONS_TOKEN } from './ledger.module-definition';
import { LedgerCompactionOption, LedgerModuleOptions } from '../options/ledger-options.interface';
import { ResolvedLedgerOptions, resolveLedgerOptions } from '../options/ledger-options.resolver';
import { PersistentLedger } from '../ledger/persistent-ledger';
import { PostgresEventStore } from '../storage/postgres/postgres-event.store';
import { loadCron } from './load-cron';

/**
 * Compaction calls of all replicas within the lease count as one tick, so the
 * lease must be shorter than the time between ticks: half of it, at most 30 s.
 */
export function defaultCompactionLeaseMs(compaction: LedgerCompactionOption): number {
  if (compaction === false) return 30_000;
  if ('intervalMs' in compaction) return Math.min(30_000, Math.floor(compaction.intervalMs / 2));
  const [first, second] = new (loadCron().CronTime)(compaction.cron, compaction.timeZone).sendAt(2);
  return Math.min(30_000, Math.floor((second.toMillis() - first.toMillis()) / 2));
}

/** Creates the store the options describe. */
export function createStoreFromOptions(options: ResolvedLedgerOptions): EventStore {
  if (options.store) return options.store;
  if (options.storage.type === 'postgres') {
    const { type: _type, compactionLeaseMs, ...connection } = options.storage;
    return new PostgresEventStore({
      ...connection,
      autoFlush: options.enableWAL,
      maxEventBytes: options.maxEventBytes,
      compactionLeaseMs: compactionLeaseMs ?? defaultCompactionLeaseMs(options.compaction),
      logger: new Logger('LedgerStore'),
    });
  }
  return new FileEventStore({
    storagePath: options.storagePath,
    autoFlush: options.enableWAL,
    maxEventBytes: options.maxEventBytes,
    lockStaleMs: options.lockStaleMs,
    logger: new Logger('LedgerStore'),
  });
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
      const resolved = resolveLedgerOptions(options);
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
    useFactory: createStoreFromOptions,
    inject: [LEDGER_RESOLVED_OPTIONS],
  },
  {
    provide: PersistentLedger,
    useFactory: async (options: ResolvedLedgerOptions, store: EventStore) => {
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
