/** The declaration of the PostgreSQL storage options. */
import type { PgPoolLike } from './pg-pool.interface';

/**
 * Where and how the PostgreSQL store keeps its events: the one declaration
 * shared by the `storage: { type: 'postgres', ... }` option and
 * `new PostgresEventStore(...)`. Give `connectionString` or an existing `pool`.
 */
export interface PostgresStorageOptions {
  /** `postgres://user:password@host:port/database`; the store then owns (and ends) its pool. */
  connectionString?: string | undefined;
  /** An existing `pg.Pool` (any object with its `query`, `connect`, `on` and `end`); the store does not end it. */
  pool?: PgPoolLike | undefined;
  /** Schema of the ledger's tables (created if missing). @default 'public' */
  schema?: string | undefined;
  /** Name of the events table (at most 48 characters); the store also creates `<table>_leases`, `<table>_rejected`, `<table>_feed` and `<table>_schema`. @default 'ledger_events' */
  table?: string | undefined;
  /**
   * Wake tails with `LISTEN`/`NOTIFY` when a batch commits. Turn it off behind a
   * transaction-pooling proxy (PgBouncer in transaction mode, RDS Proxy), where
   * `LISTEN` cannot work: tails then poll every `pollIntervalMs`. @default true
   */
  listen?: boolean | undefined;
  /** How often a tail looks for new rows without a notification (also with `listen`, as a safety net). @default 1000 */
  pollIntervalMs?: number | undefined;
  /**
   * Compaction calls from all replicas within this window count as one tick: only the first runs.
   * @default 30000 (the module: half the time between two ticks of its schedule, at most 30000)
   */
  compactionLeaseMs?: number | undefined;
  /**
   * Startup: how many more times to try opening the storage (connect, create or migrate the tables)
   * after a failure that may heal (server unreachable or starting, password refused, database
   * missing, ...), each failure logged as a warning; then `init()` (and the app's bootstrap) fails
   * with a `LedgerStorageUnavailableError`. 0 fails at the first. @default 9
   */
  retryAttempts?: number | undefined;
  /** Startup: wait before the first retry, in ms; it doubles after each further failure, up to 10 s. @default 1000 */
  retryDelayMs?: number | undefined;
}
