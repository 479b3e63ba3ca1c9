import { LedgerError } from './ledger.error';

/**
 * The NDJSON store's `events.ndjson` was removed or replaced twice while one batch was written
 * (the store reopens the path once). The cause of the `LedgerWriteError` that rejects `flush()`;
 * the batch stays queued and is retried.
 */
export class LedgerLogReplacedError extends LedgerError {
  override readonly name = 'LedgerLogReplacedError';

  constructor(readonly path: string) {
    super(`${path} was removed or replaced again while the store wrote to it`);
  }
}
