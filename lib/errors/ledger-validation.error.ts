import { LedgerError } from './ledger.error';

/**
 * Thrown synchronously by `logEvent`, `importEvents` and `finalizeEvent` when an
 * event cannot be stored. Nothing is written and the ledger is unchanged.
 */
export class LedgerValidationError extends LedgerError {
  override readonly name = 'LedgerValidationError';

  /**
   * @param field dotted path of the offending field (`"diffSummary.linesAdded"`, `"event"` for the whole object)
   * @param problem what is wrong with it, e.g. `"must be a finite number (got NaN)"`
   */
  constructor(
    readonly field: string,
    readonly problem: string,
  ) {
    super(`Invalid run event: "${field}" ${problem}`);
  }
}
