/** Moving an NDJSON store's events into a PostgreSQL table (the ndjson-to-postgres tool). */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Logger, LoggerService } from '@nestjs/common';
import { NoNdjsonStoreError } from '../errors/no-ndjson-store.error';
import { FileEventStore } from './file/file-event.store';
import { PostgresEventStore } from './postgres/postgres-event.store';
import { copyEvents } from './copy-events';
import { ProgressListener } from './store-verification.interface';

/** What {@link copyNdjsonToPostgres} needs. */
export interface CopyNdjsonToPostgresOptions {
  /** Directory of the NDJSON store (`storagePath`). */
  from: string;
  /** Target database. */
  connectionString: string;
  /** @default 'public' */
  schema?: string | undefined;
  /** @default 'ledger_events' */
  table?: string | undefined;
  logger?: LoggerService | undefined;
  /** Told the events read so far and the source's total. */
  onProgress?: ProgressListener | undefined;
}

/**
 * Copies every event of an NDJSON store into the PostgreSQL store, in order.
 * It takes the file store's lock (so the app must be stopped), and it can be
 * run again after an interruption: rows are keyed by eventId, so events
 * already copied are not copied twice.
 *
 * @returns how many events were read, how many of them were new to the table
 * (the others were already there, from an earlier run), and how many the table holds afterwards.
 * @throws NoNdjsonStoreError when `from` has no `events.ndjson` (nothing is created, neither there nor in the database).
 */
export async function copyNdjsonToPostgres(options: CopyNdjsonToPostgresOptions): Promise<{ read: number; inserted: number; tableCount: number }> {
  const isFile = await stat(join(options.from, 'events.ndjson')).then(
    (s) => s.isFile(),
    () => false,
  );
  if (!isFile) throw new NoNdjsonStoreError(options.from);
  const logger = options.logger ?? new Logger('LedgerCopy');
  const source = new FileEventStore({ storagePath: options.from, logger });
  const target = new PostgresEventStore({
    connectionString: options.connectionString,
    schema: options.schema,
    table: options.table,
    autoFlush: false,
    logger,
    // A one-shot copy fails at once with what to check; it does not wait for a server to come up.
    retryAttempts: 0,
  });
  const { read, copied, targetCount } = await copyEvents(source, target, options.onProgress);
  return { read, inserted: copied, tableCount: targetCount };
}
