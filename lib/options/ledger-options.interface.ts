import type { UnknownFieldsPolicy } from '../events/run-event.validator';
import type { PostgresStorageOptions } from '../storage/postgres/postgres-storage-options.interface';
import { EventStore } from '../storage/event-store';
import { BuiltInEvaluatorOptions } from '../ledger/evaluators/default-evaluators';
import { Evaluator } from '../ledger/evaluators/evaluator.interface';

/** Options of an in-memory `RunLedger`. */
export interface RunLedgerOptions extends BuiltInEvaluatorOptions {
  /** Evaluators run after the five built-ins. @default [] */
  evaluators?: Evaluator[] | undefined;
  /** Largest accepted string in an event, and (when persisted) largest serialised event, in bytes. @default 4 MiB */
  maxEventBytes?: number | undefined;
  /**
   * A top-level event field the schema does not have: `'refuse-typos'` refuses one named like a
   * standard field (`toolUsed`: did you mean `toolsUsed`?) and keeps the others as extra JSON
   * fields; `'refuse'` refuses every one; `'keep'` keeps every one. Applies to `logEvent`,
   * `finalizeEvent` and `importEvents`; events read back from a store keep theirs. @default 'refuse-typos'
   */
  unknownFields?: UnknownFieldsPolicy | undefined;
}

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
export type LedgerStorageOption = { type: 'ndjson' } | ({ type: 'postgres' } & PostgresStorageOptions);

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
