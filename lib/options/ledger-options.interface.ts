import type { PgPoolLike } from '../storage/postgres/pg-pool.interface';
import { EventStore } from '../storage/event-store';
import { RunLedgerOptions } from '../ledger/run-ledger';

/** When retention compaction runs: a cron expression, a fixed interval, or never. */
export type LedgerCompactionOption =
  | {
      /** Cron expression (5 or 6 fields), e.g. `'0 * * * *'`. */
      cron: string;
      /** IANA time zone for the expression. @default the process's */
      timeZone?: string | undefined;
    }
  | {
      /** Milliseconds between compactions. */
      intervalMs: number;
    }
  | false;

/** Where the ledger keeps its events. */
export type LedgerStorageOption =
  | { type: 'ndjson' }
  | {
      type: 'postgres';
      /** `postgres://user:password@host:port/database` (or give `pool`). */
      connectionString?: string | undefined;
      /** An existing `pg.Pool` (any object with its `query`, `connect`, `on` and `end`); the ledger does not end it. */
      pool?: PgPoolLike | undefined;
      /** Schema of the ledger's tables. @default 'public' */
      schema?: string | undefined;
      /** Events table name (at most 48 characters). @default 'ledger_events' */
      table?: string | undefined;
      /** Wake the replica feed with LISTEN/NOTIFY; false behind transaction-pooling proxies (the feed then polls). @default true */
      listen?: boolean | undefined;
      /** How often the replica feed looks for new rows without a notification. @default 1000 */
      pollIntervalMs?: number | undefined;
      /** Compaction ticks of all replicas within this window run once. @default 30000, or half of `compaction.intervalMs` when shorter */
      compactionLeaseMs?: number | undefined;
    };

/**
 * What configures a ledger, in Nest or not: the one declaration of these
 * options (`LedgerModuleOptions` and `PersistentLedgerConfig` add what only
 * they mean). Defaults live in `LEDGER_DEFAULTS`.
 */
export interface LedgerOptions extends RunLedgerOptions {
  /** Directory of the NDJSON store (when `storage` is NDJSON and no `store` is given). @default '.ledger' */
  storagePath?: string | undefined;
  /** Retention: compaction keeps the newest this many events (by timestamp). @default 10000 */
  maxEvents?: number | undefined;
  /**
   * Write each event in the background as it is logged (group commit); when false, events are
   * written only by `flush()`, `save()`, compaction and shutdown. @default true
   */
  autoFlush?: boolean | undefined;
  /**
   * @deprecated The first name of `autoFlush` (there never was a write-ahead log): still accepted,
   * with the same meaning. Give one or the other.
   */
  enableWAL?: boolean | undefined;
  /** Memory bound: above this many events in memory, a compaction runs at once; 0 turns it off. @default 2 x maxEvents */
  highWaterMark?: number | undefined;
  /** A file-store lock not refreshed for this long is taken over. @default 30000 */
  lockStaleMs?: number | undefined;
  /** `{ type: 'postgres', connectionString }` for apps that run as several replicas. @default { type: 'ndjson' } at `storagePath` */
  storage?: LedgerStorageOption | undefined;
  /** Use this store instead of the one `storage` describes (for example a `MemoryEventStore` in tests). */
  store?: EventStore | undefined;
}

/** Options of `LedgerModule.forRoot` / the factory of `forRootAsync`. */
export interface LedgerModuleOptions extends LedgerOptions {
  /** When retention compaction runs, through `@nestjs/schedule`. @default { cron: '0 * * * *' } */
  compaction?: LedgerCompactionOption | undefined;
}

/** Implemented by a class given to `forRootAsync({ useClass })` or `useExisting`. */
export interface LedgerOptionsFactory {
  createLedgerOptions(): LedgerModuleOptions | Promise<LedgerModuleOptions>;
}
