/** Verification of the table: every row read and checked, nothing changed. */
import { restoreStoredEvent } from '../../events/run-event.validator';
import { whyNotAnEvent } from '../../events/why-not-an-event';
import { DamagedRecord, MAX_DAMAGED_LISTED, ProgressListener, StoreVerification } from '../store-verification.interface';
import { PostgresContext, READ_PAGE } from './postgres-context';

/**
 * Reads every row (in position order, pages of {@link READ_PAGE}) and reports those that are not valid
 * run events, with their position and `event_id`, and rows whose `event_id` differs from the
 * event's own `eventId`. Changes nothing; the indexes are PostgreSQL's own.
 */
export async function verifyTable({ pool, names, maxEventBytes }: PostgresContext, onProgress?: ProgressListener): Promise<StoreVerification> {
  const { rows: counted }: { rows: { n: string }[] } = await pool.query(`SELECT count(*) AS n FROM ${names.events}`);
  const total = Number(counted[0].n);
  const damaged: DamagedRecord[] = [];
  let damagedCount = 0;
  let records = 0;
  let events = 0;
  let after = '0';
  for (;;) {
    const { rows }: { rows: { position: string; event_id: string; event: string }[] } = await pool.query(
      `SELECT position, event_id, event::text AS event FROM ${names.events} WHERE position > $1 ORDER BY position LIMIT ${READ_PAGE}`,
      [after],
    );
    for (const row of rows) {
      records++;
      const event = restoreStoredEvent(JSON.parse(row.event), maxEventBytes, () => row.event_id);
      const reason = !event
        ? whyNotAnEvent(row.event, maxEventBytes)
        : event.eventId !== row.event_id
          ? `event_id column ${JSON.stringify(row.event_id)} differs from the event's eventId ${JSON.stringify(event.eventId)}`
          : null;
      if (reason === null) events++;
      else if (damagedCount++ < MAX_DAMAGED_LISTED) damaged.push({ position: row.position, eventId: row.event_id, reason });
    }
    onProgress?.(records, Math.max(total, records));
    if (rows.length < READ_PAGE) break;
    after = rows[rows.length - 1].position;
  }
  return { sound: damagedCount === 0, records, events, damaged, damagedCount, indexProblems: [], notes: [] };
}
