/** Rewrites of the table (writeAll's replacement, compaction under the replicas' lease), each bumping the feed's epoch. */
import type { EventRow } from '../queued-event-store';
import { copyRows, encodeChunks } from './copy-rows';
import { inTransaction } from './pg-session';
import type { PgClientLike } from './pg-pool.interface';
import type { PostgresContext } from './postgres-context';

/** Who asks for the compaction lease, and how long a claim keeps other replicas out. */
export interface CompactionLease {
  holder: string;
  leaseMs: number;
}

/** Atomically replaces the table's rows with `rows`. */
export async function replaceRows(context: PostgresContext, rows: Iterable<EventRow>): Promise<void> {
  await inTransaction(context.pool, async (client) => {
    await client.query(`DELETE FROM ${context.names.events}`);
    await copyRows(client, context.names.events, encodeChunks(rows));
    await bumpEpoch(context, client);
  });
}

/**
 * Keeps the newest `maxEvents` by timestamp (later position first among
 * equal timestamps). With several replicas, only the first caller within
 * `leaseMs` runs it (a lease row claimed by one statement, which
 * works through transaction-pooling proxies); the others return 0.
 */
export async function compactRows(context: PostgresContext, maxEvents: number, lease: CompactionLease): Promise<number> {
  const { pool, names, logger } = context;
  if (!(await claimCompactionLease(context, lease))) return 0;
  const evicted = await inTransaction(pool, async (client) => {
    const result = await client.query(
      `DELETE FROM ${names.events} WHERE position IN (SELECT position FROM ${names.events} ORDER BY ts DESC, tx DESC, position DESC OFFSET $1)`,
      [maxEvents],
    );
    if ((result.rowCount ?? 0) > 0) await bumpEpoch(context, client);
    return result.rowCount ?? 0;
  });
  logger.log(`Compaction ran on this replica (it holds the lease for this tick): evicted ${evicted} event(s)`);
  return evicted;
}

async function claimCompactionLease({ pool, names, logger }: PostgresContext, { holder, leaseMs }: CompactionLease): Promise<boolean> {
  const { rows } = await pool.query(
    `INSERT INTO ${names.leases} (name, holder, acquired_at) VALUES ('compaction', $1, clock_timestamp())
     ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder, acquired_at = EXCLUDED.acquired_at
     WHERE ${names.leases}.acquired_at < clock_timestamp() - make_interval(secs => $2::double precision / 1000)
     RETURNING holder`,
    [holder, leaseMs],
  );
  if (rows.length === 0) logger.log('Compaction skipped on this replica: another replica ran it for this tick');
  return rows.length > 0;
}

/** A rewrite (compaction, writeAll) bumps the epoch: tails start over. */
async function bumpEpoch({ names }: PostgresContext, client: PgClientLike): Promise<void> {
  await client.query(`UPDATE ${names.feed} SET epoch = epoch + 1`);
  await client.query('SELECT pg_notify($1, $2)', [names.channel, 'rewrite']);
}
