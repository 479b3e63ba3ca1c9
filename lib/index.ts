import './nest-runtime.check';
export * from './events/run-event.interface';
export * from './ledger/evaluators/evaluator.interface';
export * from './ledger/ledger-metrics.interface';
export * from './storage/storage-stats.interface';
export * from './options/persistent-ledger-config.interface';
export * from './options/ledger-options.interface';
export * from './errors/ledger.error';
export * from './errors/ledger-validation.error';
export * from './errors/ledger-locked.error';
export * from './errors/ledger-lock-lost.error';
export * from './errors/ledger-config.error';
export * from './errors/ledger-closed.error';
export * from './errors/ledger-event-refused.error';
export * from './errors/ledger-write.error';
export * from './errors/ledger-storage-unavailable.error';
export * from './errors/ledger-storage-timeout.error';
export * from './errors/ledger-log-replaced.error';
export * from './errors/no-ndjson-store.error';
export * from './http/ledger-exception.filter';
export * from './health/ledger-health.indicator';
export { LEDGER_METRICS } from './metrics/ledger-metric-names';
export type { LedgerFeedStatus } from './ledger/ledger-feed-status.interface';
export * from './ledger/evaluators/tests-pass.evaluator';
export * from './ledger/evaluators/forbidden-command-scan.evaluator';
export * from './ledger/evaluators/forbidden-dependency-scan.evaluator';
export * from './ledger/evaluators/violation-rate.evaluator';
export * from './ledger/evaluators/diff-quality.evaluator';
export * from './ledger/evaluators/default-evaluators';
export { RunLedger } from './ledger/run-ledger';
export type { RunLedgerOptions } from './options/ledger-options.interface';
export { EventStore } from './storage/event-store';
export { MemoryEventStore, MemoryEventLog } from './storage/memory/memory-event.store';
export type { MemoryEventStoreOptions } from './storage/memory/memory-event.store';
export { LEDGER_DEFAULTS } from './options/ledger-defaults';
export type { QueuedEventStoreOptions } from './storage/queued-event-store';
export type { EventQuery } from './storage/event-store';
export { FileEventStore, createFileEventStore, createEventStore } from './storage/file/file-event.store';
export type { FileEventStoreOptions } from './storage/file/file-event.store';
export {
  PersistentLedger,
  createPersistentLedger,
  DEFAULT_MAX_EVENTS,
  DEFAULT_STORAGE_PATH,
  DEFAULT_COMPACT_INTERVAL_MS,
} from './ledger/persistent-ledger';
export { MAX_ID_BYTES, MAX_TIMESTAMP_MS } from './events/run-event.validator';
export { DEFAULT_MAX_EVENT_BYTES } from './options/ledger-defaults';
export type { UnknownFieldsPolicy } from './events/run-event.validator';
export { DEFAULT_LOCK_STALE_MS } from './storage/file/file-lock';
export { PostgresEventStore } from './storage/postgres/postgres-event.store';
export type { PostgresEventStoreOptions } from './storage/postgres/postgres-event.store';
export type { PostgresStorageOptions } from './storage/postgres/postgres-storage-options.interface';
export type { PgPoolLike, PgClientLike } from './storage/postgres/pg-pool.interface';
export { copyNdjsonToPostgres } from './storage/copy-ndjson-to-postgres';
export type { CopyNdjsonToPostgresOptions } from './storage/copy-ndjson-to-postgres';
export { LedgerModule } from './module/ledger.module';
export { LedgerDashboardModule } from './dashboard/ledger-dashboard.module';
export type { LedgerDashboardOptions } from './dashboard/ledger-dashboard-options.interface';
export type { LedgerDashboardAsyncOptions } from './dashboard/ledger-dashboard.module-definition';
export type { DashboardSummary, DashboardSeriesPoint } from './dashboard/dashboard-aggregates';
export type { DashboardRunsPage, DashboardRunRow, DashboardRunsQuery } from './dashboard/dashboard-runs';
export { LEDGER_COMPACTION_JOB, DEFAULT_COMPACTION_CRON } from './module/ledger.constants';
