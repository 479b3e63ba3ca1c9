import { LedgerError } from './ledger.error';
import { describeLockHolder } from './lock-holder';

/**
 * Thrown when a store is opened for writing while another live process holds
 * its lock. Only one process may write a file store; for several replicas use
 * the PostgreSQL storage.
 */
export class LedgerLockedError extends LedgerError {
  override readonly name = 'LedgerLockedError';

  constructor(
    readonly lockPath: string,
    readonly holderPid: number | null,
    readonly holderHost: string | null,
  ) {
    const who = describeLockHolder(holderPid, holderHost);
    super(
      `Ledger storage is locked by ${who} (lock file ${lockPath}). ` +
        'Stop that process or point this one at another storagePath; run several replicas on the PostgreSQL storage instead. ' +
        'A lock whose holder has died or stopped refreshing it is taken over automatically.',
    );
  }
}
