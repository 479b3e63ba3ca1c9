import { LedgerError } from './ledger.error';
import { describeLockHolder } from './lock-holder';

/**
 * Thrown by `logEvent` (and the store's writes, so `flush()` rejects with it) while another live
 * process holds the lock of a file store this process had opened: its lock file was removed or
 * replaced under it, and someone else took the store. Nothing is written meanwhile (the other
 * process may be rewriting the log); queued events stay queued. The store takes its lock again as
 * soon as it is free, re-reads the log if it changed, and writes on.
 */
export class LedgerLockLostError extends LedgerError {
  override readonly name = 'LedgerLockLostError';

  constructor(
    readonly lockPath: string,
    readonly holderPid: number | null,
    readonly holderHost: string | null,
  ) {
    const who = describeLockHolder(holderPid, holderHost);
    super(
      `The ledger lost its store lock ${lockPath} to ${who}; writes are refused until that process lets the store go ` +
        '(then this process takes the lock again and re-reads the store). Was the lock file removed by hand?',
    );
  }
}
