import { LedgerError } from './ledger.error';

/**
 * Rejects `flush()` when the store could not make the queued events durable
 * (disk full, database unreachable, ...). Nothing is lost: the events stay
 * queued in memory and are retried with backoff. `code` is the cause's
 * (`ENOSPC`, `ECONNREFUSED`, a PostgreSQL SQLSTATE), when it has one.
 */
export class LedgerWriteError extends LedgerError {
  override readonly name = 'LedgerWriteError';
  /** The cause's error code, e.g. `ENOSPC` or `57P01`. */
  readonly code: string | undefined;

  constructor(
    override readonly cause: Error,
    /** Events waiting to be written when the write failed. */
    readonly pendingEvents: number,
  ) {
    super(`Ledger write failed: ${cause.message} (${pendingEvents} event(s) kept in memory and retried)`);
    const code = (cause as { code?: unknown }).code;
    this.code = typeof code === 'string' ? code : undefined;
  }
}
