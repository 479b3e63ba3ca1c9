import './telemetry';
import { Module } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { TerminusModule } from '@nestjs/terminus';
import { LedgerDashboardModule, LedgerModule } from 'nestjs-ledger';
import { DashboardTokenGuard } from './dashboard-token.guard';
import { HealthController } from './health.controller';
import { PrometheusController } from './prometheus.controller';
import { RunsController } from './runs.controller';

/**
 * The sample application. Storage and schedule come from the environment:
 * LEDGER_STORAGE_PATH (default `sample/.ledger`), or LEDGER_DATABASE_URL to use
 * PostgreSQL instead (for several replicas); LEDGER_COMPACTION_CRON (default
 * hourly); LEDGER_MAX_EVENTS (default 10000). GET /health (terminus) and GET /prometheus
 * (OpenTelemetry metrics) show how to operate it; /ledger is the dashboard (LEDGER_DASHBOARD_TOKEN
 * protects it when set).
 */
@Module({
  imports: [
    ScheduleModule.forRoot(),
    TerminusModule,
    // The dashboard at /ledger (guarded by LEDGER_DASHBOARD_TOKEN when it is set).
    LedgerDashboardModule.forRoot({ path: '/ledger', guards: [DashboardTokenGuard] }),
    LedgerModule.forRootAsync({
      useFactory: () => ({
        storagePath: process.env.LEDGER_STORAGE_PATH ?? 'sample/.ledger',
        storage: process.env.LEDGER_DATABASE_URL ? { type: 'postgres', connectionString: process.env.LEDGER_DATABASE_URL } : { type: 'ndjson' },
        maxEvents: process.env.LEDGER_MAX_EVENTS ? Number(process.env.LEDGER_MAX_EVENTS) : undefined,
        compaction: { cron: process.env.LEDGER_COMPACTION_CRON ?? '0 * * * *' },
      }),
    }),
  ],
  controllers: [RunsController, HealthController, PrometheusController],
})
export class AppModule {}
