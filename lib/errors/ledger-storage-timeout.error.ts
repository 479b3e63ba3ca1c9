import { LedgerError } from './ledger.error';

/**
 * The storage did not answer within `timeoutMs` (PostgreSQL: the counts `getStats()` reads;
 * `getStats()` then answers with the last known counts and `countsStale: true`).
 */
export class LedgerStorageTimeoutError extends LedgerError {
  override readonly name = 'LedgerStorageTimeoutError';

  constructor(readonly timeoutMs: number) {
    super(`no answer within ${timeoutMs} ms`);
  }
}
