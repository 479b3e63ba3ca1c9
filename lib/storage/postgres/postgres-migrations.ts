/** The schema versions of the ledger's tables: creating and migrating them on open, or checking them for reads. */
import { LedgerConfigError } from '../../errors/ledger-config.error';
import { inTransaction } from './pg-session';
import type { PostgresContext } from './postgres-context';
import type { TableNames } from './table-names';

/** The oldest schema version reads work on as it is (version 3 added the `tx` column they order by). */
const OLDEST_READABLE_VERSION = 3;

/** Current schema version; MIGRATIONS[i] takes a store from version i to i + 1. */
const MIGRATIONS: ((names: TableNames) => string[])[] = [
  (n) => [
    `CREATE TABLE IF NOT EXISTS ${n.events} (
       position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
       event_id text NOT NULL UNIQUE,
       task_id text NOT NULL,
       ts double precision NOT NULL,
       event json NOT NULL,
       stored_at timestamptz NOT NULL DEFAULT now())`,
    `CREATE INDEX IF NOT EXISTS ${n.tsIndex} ON ${n.events} (ts)`,
    `CREATE INDEX IF NOT EXISTS ${n.taskIndex} ON ${n.events} (task_id, position)`,
    `CREATE TABLE IF NOT EXISTS ${n.leases} (name text PRIMARY KEY, holder text NOT NULL, acquired_at timestamptz NOT NULL)`,
  ],
  // Version 3 (below): the feed.
  // Version 2: the dead-letter table of events the server refused.
  (n) => [
    `CREATE TABLE IF NOT EXISTS ${n.refused} (
       id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
       refused_at timestamptz NOT NULL DEFAULT now(),
       event_id text NOT NULL,
       sqlstate text,
       error text NOT NULL,
       event text NOT NULL)`,
  ],
  // Version 3: the replica feed. Each row records the id of the transaction that inserted it; a
  // reader takes rows only below the oldest transaction still running (the snapshot's xmin), so a
  // transaction that commits late can never be passed over. The epoch counts rewrites.
  (n) => [
    `ALTER TABLE ${n.events} ADD COLUMN IF NOT EXISTS tx xid8 NOT NULL DEFAULT pg_current_xact_id()`,
    `CREATE INDEX IF NOT EXISTS ${n.feedIndex} ON ${n.events} (tx, position)`,
    `CREATE TABLE IF NOT EXISTS ${n.feed} (epoch bigint NOT NULL)`,
    `INSERT INTO ${n.feed} (epoch) SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM ${n.feed})`,
  ],
  // Version 4: every statement that inserts rows notifies listening tails when its transaction
  // commits, so an append is one COPY and one round trip. Tasks' reads page in feed order.
  (n) => [
    `CREATE OR REPLACE FUNCTION ${n.notifyFunction}() RETURNS trigger LANGUAGE plpgsql AS $$
     BEGIN PERFORM pg_notify('${n.channel}', 'append'); RETURN NULL; END $$`,
    `CREATE TRIGGER ${n.notifyTrigger} AFTER INSERT ON ${n.events} FOR EACH STATEMENT EXECUTE FUNCTION ${n.notifyFunction}()`,
    `DROP INDEX IF EXISTS ${n.schema}.${n.taskIndex}`,
    `CREATE INDEX ${n.taskIndex} ON ${n.events} (task_id, tx, position)`,
  ],
];

/** Creates the tables or migrates them to the current version; replicas starting together migrate one after another. */
export async function migrateTables({ pool, names, logger }: PostgresContext): Promise<void> {
  await inTransaction(pool, async (client) => {
    // Transaction-scoped: replicas starting together migrate one after another, and it works through poolers.
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`nestjs-ledger:${names.qualified}`]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${names.schema}`);
    await client.query(`CREATE TABLE IF NOT EXISTS ${names.versions} (version integer NOT NULL)`);
    const { rows }: { rows: { version: number | null }[] } = await client.query(`SELECT max(version) AS version FROM ${names.versions}`);
    const current = rows[0].version ?? 0;
    if (current > MIGRATIONS.length) {
      throw new LedgerConfigError(
        'storage',
        `the table ${names.qualified} has schema version ${current}, newer than this release supports (${MIGRATIONS.length}); upgrade nestjs-ledger`,
      );
    }
    for (let version = current; version < MIGRATIONS.length; version++) {
      for (const statement of MIGRATIONS[version](names)) await client.query(statement);
      await client.query(`INSERT INTO ${names.versions} (version) VALUES ($1)`, [version + 1]);
      if (current > 0) logger.log(`Migrated ${names.qualified} to ledger schema version ${version + 1}`);
    }
    if (current === 0) logger.log(`Created ${names.qualified} at ledger schema version ${MIGRATIONS.length}`);
  });
}

/** For `migrate: false`: reads the schema version without creating or locking anything, and refuses one reads cannot use. */
export async function checkReadableSchema({ pool, names }: PostgresContext): Promise<void> {
  const { rows: found }: { rows: { versions: string | null }[] } = await pool.query('SELECT to_regclass($1)::text AS versions', [names.versions]);
  let current = 0;
  if (found[0].versions !== null) {
    const { rows }: { rows: { version: number | null }[] } = await pool.query(`SELECT max(version) AS version FROM ${names.versions}`);
    current = rows[0].version ?? 0;
  }
  if (current > MIGRATIONS.length || current < OLDEST_READABLE_VERSION) {
    throw new LedgerConfigError(
      'storage',
      current > MIGRATIONS.length
        ? `the table ${names.qualified} has schema version ${current}, newer than this release supports (${MIGRATIONS.length}); upgrade nestjs-ledger`
        : `the table ${names.qualified} has schema version ${current}; reading it needs version ${OLDEST_READABLE_VERSION} or later, ` +
            `and reads never migrate: start an app with this release once (it migrates to version ${MIGRATIONS.length})`,
    );
  }
}

/** Drops the ledger's tables (events, leases, dead letters, feed, schema version) and its trigger function. */
export async function dropTables({ pool, names }: PostgresContext): Promise<void> {
  await pool.query(
    `DROP TABLE IF EXISTS ${names.events}, ${names.leases}, ${names.versions}, ${names.refused}, ${names.feed};
     DROP FUNCTION IF EXISTS ${names.notifyFunction}()`,
  );
}
