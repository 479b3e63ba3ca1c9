/**
 * The SQL of a PostgreSQL feed page, built without a server: which tables it reads, which rows
 * (after the cursor, below the oldest running transaction, in feed order, a page at most), and
 * which columns catching up and live pages get.
 */
import { feedPageQuery } from '../../lib/storage/postgres/feed-page-query';

const tables = { events: '"s"."ledger_events"', feed: '"s"."ledger_events_feed"' };
/** The query with its whitespace collapsed, so assertions read as SQL. */
const flat = (sql: string) => sql.replace(/\s+/g, ' ').trim();

describe('feedPageQuery', () => {
  it('reads the given tables, after the cursor and below the oldest running transaction, in feed order, a page at most', () => {
    const { page } = feedPageQuery(tables, { live: false, limit: 250 });
    const sql = flat(page);
    expect(sql).toContain('FROM "s"."ledger_events" e');
    expect(sql).toContain('(SELECT epoch FROM "s"."ledger_events_feed")::text AS epoch');
    expect(sql).toContain('WHERE (e.tx, e.position) > ($1::xid8, $2::bigint) AND e.tx < (SELECT xmin FROM horizon)');
    expect(sql).toContain('pg_snapshot_xmin(s) AS xmin');
    expect(sql).toMatch(/ORDER BY e\.tx, e\.position LIMIT 250$/);
    expect(sql).toContain('e.tx::text AS tx, e.position, e.event_id');
  });

  it('says with every row whether a transaction is running (rows may wait behind it)', () => {
    for (const live of [false, true]) {
      const { page, state } = feedPageQuery(tables, { live, limit: 10 });
      for (const sql of [flat(page), flat(state)]) {
        expect(sql).toContain('pg_snapshot_xmin(s) < pg_snapshot_xmax(s) AS running');
        expect(sql).toContain('(SELECT running FROM horizon) AS transaction_running');
      }
    }
  });

  it('catching up, has the driver decode each event and asks for no age', () => {
    const sql = flat(feedPageQuery(tables, { live: false, limit: 10 }).page);
    expect(sql).toContain('e.event_id, e.event FROM');
    expect(sql).not.toContain('e.event::text');
    expect(sql).not.toContain('AS age');
  });

  it('live, sends each event as JSON text with its age in seconds', () => {
    const sql = flat(feedPageQuery(tables, { live: true, limit: 10 }).page);
    expect(sql).toContain('e.event::text AS event');
    expect(sql).toContain('extract(epoch FROM clock_timestamp() - e.stored_at)::float8 AS age');
  });

  it('asks for the state alone, without the events table or parameters, for an empty page', () => {
    const sql = flat(feedPageQuery(tables, { live: true, limit: 10 }).state);
    expect(sql).toMatch(
      /^WITH horizon AS \(.*\) SELECT \(SELECT epoch FROM "s"\."ledger_events_feed"\)::text AS epoch, \(SELECT running FROM horizon\) AS transaction_running$/,
    );
    expect(sql).not.toContain('ledger_events"');
    expect(sql).not.toContain('$1');
  });
});
