/** The SQL of one page of the PostgreSQL feed, built from the table names (pure: runs nothing). */

/** The tables a feed page reads. */
export interface FeedTables {
  /** The events table, quoted. */
  events: string;
  /** The one-row epoch table, quoted. */
  feed: string;
}

/** A feed page's SQL: the page itself, and the state alone. */
export interface FeedPageQuery {
  /**
   * Up to `limit` rows after the cursor (`$1::xid8`, `$2::bigint`) whose transaction is below the
   * oldest one still running, in (`tx`, `position`) order; each row carries `epoch` and
   * `transaction_running`. Columns: `epoch`, `transaction_running`, `tx` (text), `position`,
   * `event_id`, `event` (decoded JSON; live: its text) and, live, `age` (seconds since it was stored).
   */
  page: string;
  /** `epoch` and `transaction_running` alone, for when the page is empty. */
  state: string;
}

/**
 * The feed's page query. The horizon (the oldest running transaction) and the epoch are computed once
 * per query. `transaction_running` says a transaction is running, so rows may wait behind it (checking
 * for waiting rows themselves would scan the running transactions' uncommitted index entries on every
 * look). `live` pages send the JSON as text, to be decoded only where the follower lacks its own copy,
 * and each row's age; catching up, the driver decodes each row's JSON as it arrives.
 */
export function feedPageQuery(tables: FeedTables, { live, limit }: { live: boolean; limit: number }): FeedPageQuery {
  const horizon = `WITH horizon AS (
         SELECT pg_snapshot_xmin(s) AS xmin, pg_snapshot_xmin(s) < pg_snapshot_xmax(s) AS running FROM (SELECT pg_current_snapshot() AS s) snapshot)`;
  const state = `(SELECT epoch FROM ${tables.feed})::text AS epoch, (SELECT running FROM horizon) AS transaction_running`;
  const event = live ? 'e.event::text AS event, extract(epoch FROM clock_timestamp() - e.stored_at)::float8 AS age' : 'e.event';
  return {
    page: `${horizon}
       SELECT ${state}, e.tx::text AS tx, e.position, e.event_id,
              ${event}
       FROM ${tables.events} e
       WHERE (e.tx, e.position) > ($1::xid8, $2::bigint) AND e.tx < (SELECT xmin FROM horizon)
       ORDER BY e.tx, e.position
       LIMIT ${limit}`,
    state: `${horizon} SELECT ${state}`,
  };
}
