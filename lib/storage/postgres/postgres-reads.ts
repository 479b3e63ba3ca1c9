/** Reading stored events in store order, and asking which ids the table holds. */
import { RunEvent } from '../../events/run-event.interface';
import { restoreStoredEvent } from '../../events/run-event.validator';
import type { EventQuery } from '../event-store';
import { PostgresContext, READ_PAGE, warnInvalidRows } from './postgres-context';

/**
 * The stored events matching `query`, in store order (by inserting transaction, then position: the
 * order the feed delivers), in pages of {@link READ_PAGE}. Rows that are not valid events are
 * skipped, their positions noted in `context.invalidPositions`.
 */
export async function* readStoredBatches(context: PostgresContext, query: EventQuery): AsyncIterable<RunEvent[]> {
  const { pool, names, maxEventBytes, invalidPositions } = context;
  const conditions = ['(tx, position) > ($1::xid8, $2::bigint)'];
  const params: unknown[] = ['0', 0];
  if (query.from !== undefined) conditions.push(`ts >= $${params.push(query.from)}`);
  if (query.to !== undefined) conditions.push(`ts <= $${params.push(query.to)}`);
  if (query.taskId !== undefined) conditions.push(`task_id = $${params.push(query.taskId)}`);
  // (The text form of tx gets another name: an output column named tx would make ORDER BY tx sort text.)
  const sql = `SELECT tx::text AS tx_text, position, event_id, event FROM ${names.events} WHERE ${conditions.join(' AND ')} ORDER BY tx, position LIMIT ${READ_PAGE}`;
  const invalidBefore = invalidPositions.size;
  try {
    for (;;) {
      const { rows }: { rows: { tx_text: string; position: string; event_id: string; event: unknown }[] } = await pool.query(sql, params);
      if (rows.length === 0) return;
      params[0] = rows[rows.length - 1].tx_text;
      params[1] = rows[rows.length - 1].position;
      const batch: RunEvent[] = [];
      for (const row of rows) {
        // Rows are validated like logEvent input: a row written by another tool or edited by hand never reaches memory malformed.
        const event = restoreStoredEvent(row.event, maxEventBytes, () => row.event_id);
        if (event) batch.push(event);
        else invalidPositions.add(row.position);
      }
      if (batch.length > 0) yield batch;
      if (rows.length < READ_PAGE) return;
    }
  } finally {
    warnInvalidRows(context, invalidPositions.size - invalidBefore);
  }
}

/** Which of `eventIds` the table holds now (by its unique index on `event_id`). */
export async function heldEventIds({ pool, names }: PostgresContext, eventIds: readonly string[]): Promise<Set<string>> {
  const { rows }: { rows: { event_id: string }[] } = await pool.query(`SELECT event_id FROM ${names.events} WHERE event_id = ANY($1::text[])`, [
    eventIds,
  ]);
  return new Set(rows.map((r) => r.event_id));
}

/** Whether the events table exists (checked without creating anything). */
export async function eventsTableExists({ pool, names }: PostgresContext): Promise<boolean> {
  const { rows }: { rows: { table: string | null }[] } = await pool.query('SELECT to_regclass($1)::text AS table', [names.qualified]);
  return rows[0].table !== null;
}
