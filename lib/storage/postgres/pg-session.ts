/** Session helpers: a client of the pool for one piece of work, and a transaction on it. */
import type { PgClientLike, PgPoolLike } from './pg-pool.interface';

/** Runs `work` on a client of the pool; a client whose connection broke is discarded, not reused. */
export async function withClient<R>(pool: PgPoolLike, work: (client: PgClientLike, markBroken: (err: Error) => void) => Promise<R>): Promise<R> {
  const client = await pool.connect();
  let broken: Error | undefined;
  const markBroken = (err: Error) => (broken = err);
  // A checked-out client whose connection dies emits 'error'; without a listener that would crash the process.
  client.on('error', markBroken);
  try {
    return await work(client, markBroken);
  } finally {
    client.off('error', markBroken);
    client.release(broken);
  }
}

/** Runs `work` in a transaction on one client of the pool. */
export function inTransaction<R>(pool: PgPoolLike, work: (client: PgClientLike) => Promise<R>): Promise<R> {
  return withClient(pool, async (client, markBroken) => {
    await client.query('BEGIN');
    try {
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(markBroken);
      throw err;
    }
  });
}
