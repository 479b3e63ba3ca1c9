/** Appending a batch: one COPY in its own transaction, or idempotent INSERTs when the batch meets ids already stored. */
import { RunEvent } from '../../events/run-event.interface';
import { serializeRunEvent } from '../../events/run-event.serializer';
import { copyRows } from './copy-rows';
import { copyTextRow } from './copy-text-row';
import { inTransaction, withClient } from './pg-session';
import type { PgClientLike } from './pg-pool.interface';
import type { PostgresContext } from './postgres-context';

/**
 * A queued event with its COPY row, UTF-8 encoded when it is logged (so encoding overlaps the previous
 * batch's commit, and the bytes wait outside the JavaScript heap). The rare paths that need the JSON
 * alone (a retried batch, a refused event) serialise again.
 */
export interface QueuedRow {
  event: RunEvent;
  copyRow: Buffer;
}

/** Rows per INSERT statement of the fallback path; a batch is several statements in one transaction. */
const INSERT_CHUNK = 5_000;
/** SQLSTATE unique_violation: a COPY met an event_id already stored. */
const UNIQUE_VIOLATION = '23505';

/** The queue item of `event`, its COPY row encoded now. */
export function toQueuedRow(event: RunEvent, line: string): QueuedRow {
  return { event, copyRow: Buffer.from(copyTextRow(event, line)) };
}

/**
 * The batch as one `COPY`, its own transaction: one round trip (the table's trigger notifies
 * listening tails when it commits). A batch that meets an `event_id` already stored is written
 * again with `INSERT ... ON CONFLICT DO NOTHING` in one transaction, which skips what is there.
 * Returns how many rows were new.
 */
export async function appendBatch({ pool, names }: PostgresContext, batch: QueuedRow[]): Promise<number> {
  try {
    return await withClient(pool, (client) => copyRows(client, names.events, [Buffer.concat(batch.map((row) => row.copyRow))]));
  } catch (err) {
    if ((err as { code?: unknown }).code !== UNIQUE_VIOLATION) throw err;
    return inTransaction(pool, (client) =>
      insertRows(
        client,
        names.events,
        batch.map((row) => row.event),
      ),
    );
  }
}

/** Inserts rows (idempotent on event_id) and returns how many were new. */
async function insertRows(client: PgClientLike, eventsTable: string, events: RunEvent[]): Promise<number> {
  const rows = events.map((event) => ({ event, line: serializeRunEvent(event, Infinity) }));
  let inserted = 0;
  for (let start = 0; start < rows.length; start += INSERT_CHUNK) {
    const chunk = rows.slice(start, start + INSERT_CHUNK);
    const result = await client.query(
      `INSERT INTO ${eventsTable} (event_id, task_id, ts, event)
       SELECT * FROM unnest($1::text[], $2::text[], $3::float8[], $4::json[])
       ON CONFLICT (event_id) DO NOTHING`,
      [chunk.map((r) => r.event.eventId), chunk.map((r) => r.event.taskId), chunk.map((r) => r.event.timestamp), chunk.map((r) => r.line)],
    );
    inserted += result.rowCount ?? 0;
  }
  return inserted;
}
