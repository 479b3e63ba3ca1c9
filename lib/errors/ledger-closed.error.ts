import { LedgerError } from './ledger.error';

/**
 * Thrown by `logEvent` (and the store's `enqueue`) after the ledger or store was
 * closed, e.g. once the application has shut down: the event could no longer be
 * written, so it is refused rather than silently dropped.
 */
export class LedgerClosedError extends LedgerError {
  override readonly name = 'LedgerClosedError';

  constructor(readonly storeDescription: string) {
    super(`The ledger store ${storeDescription} is closed; the event was not accepted. Log events only while the application is running.`);
  }
}
