import { LedgerError } from './ledger.error';

/**
 * Rejects the `flush()` calls that cover events the store refused for good
 * (PostgreSQL rejected the data itself, e.g. a constraint of yours): retrying
 * could not cure it. Those events were set aside in a dead-letter table and
 * left out of the ledger; every other event was written.
 */
export class LedgerEventRefusedError extends LedgerError {
  override readonly name = 'LedgerEventRefusedError';

  /**
   * @param eventIds ids of the refused events
   * @param deadLetter where they were kept (`schema."table_rejected"`)
   * @param cause the store's error for the first of them
   */
  constructor(
    readonly eventIds: string[],
    readonly deadLetter: string,
    override readonly cause: Error,
  ) {
    const shown = eventIds.slice(0, 5).join(', ') + (eventIds.length > 5 ? `, ... (${eventIds.length} in all)` : '');
    super(
      `The store refused ${eventIds.length} event(s) (${shown}): ${cause.message}. They were set aside in ${deadLetter}; every other event was written.`,
    );
  }
}
