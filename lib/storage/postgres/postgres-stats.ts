/** The stored counts `getStats()` reports, read from the server with a timeout. */
import { LedgerStorageTimeoutError } from '../../errors/ledger-storage-timeout.error';
import { MAX_TIMESTAMP_MS } from '../../events/run-event.validator';
import type { StoredCounts } from '../queued-event-store';
import type { PostgresContext } from './postgres-context';

/** How long `getStats()` waits for the server before answering with the last known counts. */
const STATS_TIMEOUT_MS = 3_000;

/** Counts as the server gives them; a server that does not answer within 3 s fails it (`getStats()` then gives the last known counts). */
export function readStoredCounts(context: PostgresContext, open: () => Promise<void>): Promise<StoredCounts> {
  return withTimeout(
    open().then(() => queryCounts(context)),
    STATS_TIMEOUT_MS,
  );
}

async function queryCounts({ pool, names, invalidPositions }: PostgresContext): Promise<StoredCounts> {
  const { rows }: { rows: { count: string; oldest: number | null; newest: number | null; bytes: string; refused: string }[] } = await pool.query(
    // The span is that of the events reads give: a row whose timestamp no Date can hold is skipped by them.
    `SELECT count(*) AS count, min(ts) FILTER (WHERE ts BETWEEN -$2::float8 AND $2::float8) AS oldest,
            max(ts) FILTER (WHERE ts BETWEEN -$2::float8 AND $2::float8) AS newest, pg_total_relation_size($1::regclass) AS bytes,
            (SELECT count(*) FROM ${names.refused}) AS refused
     FROM ${names.events}`,
    [names.qualified, MAX_TIMESTAMP_MS],
  );
  return {
    eventCount: Number(rows[0].count),
    storageSizeBytes: Number(rows[0].bytes),
    oldestEvent: rows[0].oldest,
    newestEvent: rows[0].newest,
    refusedEvents: Number(rows[0].refused),
    corruptLines: invalidPositions.size,
    countsStale: false,
  };
}

/** Rejects with a {@link LedgerStorageTimeoutError} when `promise` has not settled within `ms`. */
function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new LedgerStorageTimeoutError(ms)), ms);
  });
  promise.catch(() => undefined); // may settle after the timeout
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
