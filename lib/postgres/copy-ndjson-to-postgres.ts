import { Logger, LoggerService } from '@nestjs/common';
import { FileEventStore } from '../file/file-event.store';
import { PostgresEventStore } from './postgres-event.store';

/** What {@link copyNdjsonToPostgres} needs. */
export interface CopyNdjsonToPostgresOptions {
  /** Directory of the NDJSON store (`storagePath`). */
  from: string;
  /** Target database. */
  connectionString: string;
  /** @default 'public' */
  schema?: string;
  /** @default 'ledger_events' */
  table?: string;
  logger?: LoggerService;
}

/**
 * Copies every event of an NDJSON store into the PostgreSQL store, in order.
 * It takes the file store's lock (so the app must be stopped), and it can be
 * run again after an interruption: rows are keyed by eventId, so events
 * already copied are not copied twice.
 *
 * @returns how many events were read and how many the table holds afterwards.
 */
export async function copyNdjsonToPostgres(options: CopyNdjsonToPostgresOptions): Promise<{ read: number; tableCount: number }> {
  const logger = options.logger ?? new Logger('LedgerCopy');
  const source = new FileEventStore({ storagePath: options.from, logger });
  const target = new PostgresEventStore({ connectionString: options.connectionString, schema: options.schema, table: options.table, autoFlush: false, logger });
  let read = 0;
  try {
    await source.open();
    await target.open();
    for await (const batch of source.readBatches()) {
      target.enqueue(batch);
      read += batch.length;
      if (read % 50_000 < batch.length) {
        await target.flush();
        logger.log(`Copied ${read} event(s)`);
      }
    }
    await target.flush();
    const { eventCount } = await target.getStats();
    return { read, tableCount: eventCount };
  } finally {
    await source.close().catch(() => undefined);
    await target.close().catch(() => undefined);
  }
}
