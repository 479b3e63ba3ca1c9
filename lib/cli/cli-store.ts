import { EventStore } from '../storage/event-store';
import { FileEventStore } from '../storage/file/file-event.store';
import { PostgresEventStore } from '../storage/postgres/postgres-event.store';
import { ProgressListener } from '../storage/store-verification.interface';
import { CliLogger } from './cli-logger';
import { CliExit, EXIT } from './cli-exit';

/** Where a command finds a store: `--schema`/`--table` apply to a PostgreSQL URL. */
export interface StoreLocation {
  schema?: string | undefined;
  table?: string | undefined;
}

/**
 * What a command does with a store: `read` never changes it (a PostgreSQL table of an older
 * schema version is read as it is, or refused, never migrated); `write` creates or migrates it.
 */
export type StoreAccess = 'read' | 'write';

/** Whether a store argument is a PostgreSQL connection string rather than a directory. */
export function isPostgresUrl(target: string): boolean {
  return /^postgres(ql)?:\/\//i.test(target);
}

/**
 * The store at `target`: a `postgres://` URL (its events table, `--schema`/`--table`) or the
 * directory of an NDJSON store. Writes only on `flush()`; never follows the feed with LISTEN.
 */
export function openStore(
  target: string,
  location: StoreLocation,
  logger: CliLogger,
  access: StoreAccess,
  onCompactionProgress?: ProgressListener,
): FileEventStore | PostgresEventStore {
  if (isPostgresUrl(target)) {
    return new PostgresEventStore({
      connectionString: target,
      schema: location.schema,
      table: location.table,
      autoFlush: false,
      logger,
      pollIntervalMs: 250,
      migrate: access === 'write',
      // A command fails at once with what to check; it does not wait for a server to come up.
      retryAttempts: 0,
    });
  }
  return new FileEventStore({ storagePath: target, autoFlush: false, logger, onCompactionProgress });
}

/** The store's own description, for messages. */
export function describeStore(store: EventStore): string {
  const { driver, location } = store.describe();
  return `${location} (${driver})`;
}

/**
 * The store at `target`, refusing with exit status 1 when there is none (nothing is created) or,
 * for `read`, when its PostgreSQL table is of a schema version the command cannot read as it is.
 */
export async function existingStore(
  target: string,
  location: StoreLocation,
  logger: CliLogger,
  access: StoreAccess,
  onCompactionProgress?: ProgressListener,
) {
  const store = openStore(target, location, logger, access, onCompactionProgress);
  let found: boolean;
  try {
    found = await store.exists();
    // Opened here so that a table the command cannot read fails before any output.
    if (found && store instanceof PostgresEventStore) await store.open();
  } catch (err) {
    await store.close().catch(() => undefined);
    throw err;
  }
  if (!found) {
    await store.close().catch(() => undefined);
    throw new CliExit(
      EXIT.failed,
      store instanceof FileEventStore
        ? `No NDJSON store at ${target} (no events.ndjson)`
        : `No ledger table ${store.describe().location} at ${target}`,
    );
  }
  return store;
}
