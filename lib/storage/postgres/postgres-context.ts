/** What every part of the PostgreSQL driver works over: the pool, the table names, the logger and the limits. */
import type { LoggerService } from '@nestjs/common';
import type { PgPoolLike } from './pg-pool.interface';
import type { TableNames } from './table-names';

/** Rows per page when streaming reads (stored events, verification, the feed). */
export const READ_PAGE = 5_000;

/** The state the driver's parts share; the store builds one and passes it to each. */
export interface PostgresContext {
  readonly pool: PgPoolLike;
  readonly names: TableNames;
  readonly logger: LoggerService;
  /** Largest serialised event accepted, in bytes: rows above it are not valid events. */
  readonly maxEventBytes: number;
  /** Positions of rows that are not valid events, seen by reads (skipped, counted as corrupt). */
  readonly invalidPositions: Set<string>;
}

/** Logs that reads met `count` rows that are not valid run events. */
export function warnInvalidRows(context: PostgresContext, count: number): void {
  if (count > 0)
    context.logger.warn(`${count} row(s) of ${context.names.qualified} are not valid run events; they are skipped and counted in corruptLines`);
}
