/** The PostgreSQL feed as pages for the generic follow loop: where to start, each page's rows, and their events. */
import { RunEvent } from '../../events/run-event.interface';
import { restoreStoredEvent } from '../../events/run-event.validator';
import type { TailOptions } from '../event-store';
import type { FollowedPage, PagedFeedSource } from '../feed-follow-loop';
import { FeedCursor, feedOrigin, formatFeedCursor, parseFeedCursor } from './feed-cursor';
import { feedPageQuery } from './feed-page-query';
import { PostgresContext, READ_PAGE, warnInvalidRows } from './postgres-context';

/** A row of a feed page, as `feedPageQuery` selects it. */
interface FeedRow {
  epoch: string;
  transaction_running: boolean;
  tx: string;
  position: string;
  event_id: string;
  /** The event: decoded by the driver (catching up), or its JSON text (live), decoded only when the follower does not hold it. */
  event: unknown;
  /** Live pages: seconds since the row was stored (server clock), when the page was read. */
  age?: number | undefined;
}

/**
 * The feed of every replica's events, read in (`tx`, `position`) order below the oldest transaction
 * still running. Live, `known` (the follower's own copies) spares decoding the rows it already holds.
 */
export function postgresFeedSource(context: PostgresContext, known: TailOptions['known']): PagedFeedSource<FeedCursor> {
  const catchingUp = feedPageQuery(context.names, { live: false, limit: READ_PAGE });
  const following = feedPageQuery(context.names, { live: true, limit: READ_PAGE });
  return {
    start: (after) => startCursor(context, after),
    origin: feedOrigin,
    format: formatFeedCursor,
    async readPage(cursor, live) {
      const own = live ? known : undefined;
      const query = own ? following : catchingUp;
      const { rows }: { rows: FeedRow[] } = await context.pool.query(query.page, [cursor.tx, cursor.position]);
      const last = rows[rows.length - 1];
      if (!last) {
        const {
          rows: [state],
        }: { rows: Pick<FeedRow, 'epoch' | 'transaction_running'>[] } = await context.pool.query(query.state);
        return { epoch: state.epoch, next: null, caughtUp: true, rowsMayWait: state.transaction_running, events: () => [] };
      }
      return {
        epoch: last.epoch,
        next: { epoch: cursor.epoch, tx: last.tx, position: last.position },
        caughtUp: rows.length < READ_PAGE,
        rowsMayWait: last.transaction_running,
        lastAge: last.age,
        events: () => restoreRows(context, rows, own),
      } satisfies FollowedPage<FeedCursor>;
    },
  };
}

/** Where a tail starts: `null` the first row, `undefined` now (after the last row already safe to pass), a cursor after it. */
async function startCursor({ pool, names }: PostgresContext, after: string | null | undefined): Promise<{ cursor: FeedCursor; reset: boolean }> {
  const { rows }: { rows: { epoch: string }[] } = await pool.query(`SELECT epoch FROM ${names.feed}`);
  const epoch = rows[0].epoch;
  if (after === null) return { cursor: feedOrigin(epoch), reset: false };
  if (after === undefined) {
    // From now: after the last row that is already safe to pass.
    const head: { rows: { tx_text: string; position: string }[] } = await pool.query(
      `SELECT tx::text AS tx_text, position FROM ${names.events} WHERE tx < pg_snapshot_xmin(pg_current_snapshot()) ORDER BY tx DESC, position DESC LIMIT 1`,
    );
    return { cursor: { epoch, tx: head.rows[0]?.tx_text ?? '0', position: head.rows[0]?.position ?? '0' }, reset: false };
  }
  const requested = parseFeedCursor(after);
  if (requested === null || requested.epoch !== epoch) return { cursor: feedOrigin(epoch), reset: true };
  return { cursor: requested, reset: false };
}

/** The rows' events: the follower's own copy where it has one, otherwise the row decoded and validated. */
function restoreRows(context: PostgresContext, rows: FeedRow[], known: TailOptions['known']): RunEvent[] {
  const { maxEventBytes, invalidPositions } = context;
  const events: RunEvent[] = [];
  let invalid = 0;
  for (const row of rows) {
    const own = known?.(row.event_id);
    if (own) {
      events.push(own);
      continue;
    }
    const event = restoreStoredEvent(known ? JSON.parse(row.event as string) : row.event, maxEventBytes, () => row.event_id);
    if (event) events.push(event);
    else if (!invalidPositions.has(row.position)) {
      invalidPositions.add(row.position);
      invalid++;
    }
  }
  warnInvalidRows(context, invalid);
  return events;
}
