/** The names of the ledger's tables, indexes, trigger and NOTIFY channel, derived from the `schema` and `table` options. */
import { createHash } from 'node:crypto';
import { LedgerConfigError } from '../../errors/ledger-config.error';
import { sqlIdentifier } from './sql-identifier';

/** Quoted names, ready to paste into SQL (identifiers cannot be query parameters). */
export interface TableNames {
  schema: string;
  events: string;
  leases: string;
  versions: string;
  refused: string;
  tsIndex: string;
  taskIndex: string;
  feedIndex: string;
  /** The trigger function that notifies the channel after inserts, and its trigger. */
  notifyFunction: string;
  notifyTrigger: string;
  /** One row: the feed's epoch, bumped by every rewrite (compaction, writeAll). */
  feed: string;
  /** The NOTIFY channel of this table. */
  channel: string;
  /** Unquoted `schema.table`, for regclass and lock keys. */
  qualified: string;
  /** The dead-letter table, as the docs and errors name it. */
  refusedQualified: string;
}

/**
 * The names of a ledger's objects in `schemaName` (default `public`) for the events table `tableName`
 * (default `ledger_events`).
 *
 * @throws LedgerConfigError when a name is not a plain SQL identifier, or the table name is longer than 48 characters.
 */
export function tableNames(schemaName = 'public', tableName = 'ledger_events'): TableNames {
  const schema = sqlIdentifier('storage.schema', schemaName);
  sqlIdentifier('storage.table', tableName);
  if (tableName.length > 48) throw new LedgerConfigError('storage.table', 'must be at most 48 characters (index names are derived from it)');
  const name = (suffix: string) => `${schema}."${tableName}${suffix}"`;
  return {
    schema,
    events: name(''),
    leases: name('_leases'),
    versions: name('_schema'),
    refused: name('_rejected'),
    tsIndex: `"${tableName}_ts_idx"`,
    taskIndex: `"${tableName}_task_idx"`,
    feedIndex: `"${tableName}_feed_idx"`,
    notifyFunction: name('_notify'),
    notifyTrigger: `"${tableName}_notify"`,
    feed: name('_feed'),
    channel: `nestjs_ledger_${createHash('sha256').update(`${schemaName}.${tableName}`).digest('hex').slice(0, 24)}`,
    qualified: `${schema}."${tableName}"`,
    refusedQualified: `${schema}."${tableName}_rejected"`,
  };
}
