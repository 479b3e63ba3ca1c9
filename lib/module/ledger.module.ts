import { Module } from '@nestjs/common';
import { EventStore } from '../storage/event-store';
import { LedgerCompactionJob } from './ledger-compaction.job';
import { LedgerShutdown } from './ledger-shutdown';
import { ConfigurableModuleClass } from './ledger.module-definition';
import { ledgerProviders } from './ledger.providers';
import { PersistentLedger } from '../ledger/persistent-ledger';
import { LedgerHealthIndicator } from '../health/ledger-health.indicator';

/**
 * Gives an application a durable ledger of run events.
 *
 * `LedgerModule.forRoot(options)` or `LedgerModule.forRootAsync({ imports, inject,
 * useFactory | useClass | useExisting })`; `isGlobal: true` makes the providers
 * visible everywhere. Exports {@link PersistentLedger}, {@link EventStore} and {@link LedgerHealthIndicator}.
 * The ledger is loaded before the application serves; compaction runs under
 * `SchedulerRegistry` as `nestjs-ledger:compaction` (the host imports `ScheduleModule.forRoot()`).
 */
@Module({
  providers: [...ledgerProviders, LedgerCompactionJob, LedgerShutdown, LedgerHealthIndicator],
  exports: [EventStore, PersistentLedger, LedgerHealthIndicator],
})
export class LedgerModule extends ConfigurableModuleClass {}
